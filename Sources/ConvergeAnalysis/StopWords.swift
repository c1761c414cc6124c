/// English stop words: the Snowball English stop word list (snowballstem.org/algorithms/english/stop.txt),
/// plus a few function words common in model answers (`also`, `e.g`, `i.e`, `etc`, `can`, `will`, ...).
/// Lower-case; apostrophes as `'`.
public enum StopWords {
    public static let english: Set<String> = [
        "i", "me", "my", "myself", "we", "our", "ours", "ourselves", "you", "your", "yours", "yourself",
        "yourselves", "he", "him", "his", "himself", "she", "her", "hers", "herself", "it", "its", "itself",
        "they", "them", "their", "theirs", "themselves", "what", "which", "who", "whom", "this", "that", "these",
        "those", "am", "is", "are", "was", "were", "be", "been", "being", "have", "has", "had", "having", "do",
        "does", "did", "doing", "would", "should", "could", "ought", "i'm", "you're", "he's", "she's", "it's",
        "we're", "they're", "i've", "you've", "we've", "they've", "i'd", "you'd", "he'd", "she'd", "we'd",
        "they'd", "i'll", "you'll", "he'll", "she'll", "we'll", "they'll", "isn't", "aren't", "wasn't",
        "weren't", "hasn't", "haven't", "hadn't", "doesn't", "don't", "didn't", "won't", "wouldn't", "shan't",
        "shouldn't", "can't", "cannot", "couldn't", "mustn't", "let's", "that's", "who's", "what's", "here's",
        "there's", "when's", "where's", "why's", "how's", "a", "an", "the", "and", "but", "if", "or", "because",
        "as", "until", "while", "of", "at", "by", "for", "with", "about", "against", "between", "into",
        "through", "during", "before", "after", "above", "below", "to", "from", "up", "down", "in", "out", "on",
        "off", "over", "under", "again", "further", "then", "once", "here", "there", "when", "where", "why",
        "how", "all", "any", "both", "each", "few", "more", "most", "other", "some", "such", "no", "nor", "not",
        "only", "own", "same", "so", "than", "too", "very",
        // Additions: function words and list cues that carry no point of their own.
        "also", "e.g", "i.e", "etc", "eg", "ie", "can", "will", "may", "might", "must", "shall", "just", "via",
        "within", "without", "upon", "among", "like", "including", "include", "includes", "often", "typically",
        "usually", "generally", "especially", "particularly", "various", "many", "much", "well", "even",
        "however", "therefore", "thus", "overall", "ultimately", "one's", "s",
    ]

    /// Whether the lower-cased word is a stop word (`’` is read as `'`).
    public static func contains(_ lowercased: String) -> Bool {
        english.contains(lowercased) || english.contains(lowercased.replacingApostrophes)
    }
}

extension String {
    var replacingApostrophes: String {
        guard unicodeScalars.contains("\u{2019}") else { return self }
        return String(String.UnicodeScalarView(unicodeScalars.map { $0 == "\u{2019}" ? "'" : $0 }))
    }
}
