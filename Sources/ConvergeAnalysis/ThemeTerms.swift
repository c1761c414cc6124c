import ConvergeCore
import Foundation

/// Theme names from the words a theme's key points share and the other themes use less ("Moon Phases",
/// "Sleep & Water"), for themes that no heading or lead-in names.
///
/// Class-based TF-IDF (c-TF-IDF, Grootendorst 2022, "BERTopic: Neural topic modeling with a class-based TF-IDF
/// procedure"), with key points as the counting unit: a term's weight in theme t is
/// `kp(t, u) / |t| × log(1 + A / Σ kp(·, u))`, where `kp(t, u)` is the number of t's key points whose statements
/// use the term u, `|t|` the theme's key points and `A` the mean key points per theme. Terms are content words
/// (stemmed, so "phase" and "phases" count together; shown in their most used form) and two-word phrases of
/// adjacent content words. A term names a theme only when at least two of its key points, and at least a third
/// of them, use it, so a name describes the theme and not one of its members. Deterministic: ties break on the
/// term. O(total words).
public struct ThemeTerms: Sendable {
    /// Phrases weigh this much more than single words (they are more specific: "Cutting Board" over "Board").
    public var phraseBoost = 1.3
    /// A second term joins the name ("Sleep & Water") when its weight is at least this share of the first's.
    public var secondTermShare = 0.6

    public init() {}

    /// For each theme (`themes[t]`: its key points, each as statement indices), a name, or nil when no term is
    /// shared widely enough.
    public func names(_ themes: [[[Int]]], statements: [Statement]) -> [String?] {
        var extractor = TermForms()
        // Key point frequency of every term in every theme, and the forms each stem is written in.
        var frequency: [[String: Int]] = []
        for theme in themes {
            var counts: [String: Int] = [:]
            for group in theme {
                var terms = Set<String>()
                for s in group { terms.formUnion(extractor.terms(of: statements[s].text)) }
                for term in terms { counts[term, default: 0] += 1 }
            }
            frequency.append(counts)
        }
        var total: [String: Int] = [:]
        for counts in frequency { for (term, n) in counts { total[term, default: 0] += n } }
        let average = Double(themes.reduce(0) { $0 + $1.count }) / Double(max(1, themes.count))

        return themes.indices.map { t in
            let size = themes[t].count
            let least = max(2, (size + 2) / 3)
            let scored = frequency[t].compactMap { term, n -> (term: String, weight: Double)? in
                guard n >= least, term.contains(" ") || extractor.standsAlone(term) else { return nil }
                let weight = Double(n) / Double(size) * log(1 + average / Double(total[term]!))
                return (term, term.contains(" ") ? weight * phraseBoost : weight)
            }.sorted { ($0.weight, $1.term) > ($1.weight, $0.term) }
            guard let first = scored.first else { return nil }
            let firstStems = Set(first.term.split(separator: " "))
            var parts = [extractor.display(first.term)]
            // A second term only when it too is shared by half the theme's key points ("Say & Anyway" is not).
            if let second = scored.dropFirst().first(where: { Set($0.term.split(separator: " ")).isDisjoint(with: firstStems) }),
               second.weight >= secondTermShare * first.weight, frequency[t][second.term]! * 2 >= size {
                parts.append(extractor.display(second.term))
            }
            return parts.joined(separator: " & ")
        }
    }
}

/// Content words and two-word phrases of a text, as stems, remembering the forms they were written in.
struct TermForms {
    private let stemmer = EnglishStemmer()
    /// stem -> written form (lower case) -> uses.
    private var forms: [String: [String: Int]] = [:]

    /// Words that carry no theme of their own: discourse words, common verbs of advice and vague nouns.
    static let empty: Set<String> = [
        "also", "can", "could", "may", "might", "will", "would", "should", "must", "need", "needs", "make", "makes",
        "making", "help", "helps", "helping", "use", "using", "used", "try", "get", "getting", "keep", "keeping",
        "take", "taking", "way", "ways", "thing", "things", "lot", "lots", "many", "much", "more", "most", "less",
        "well", "good", "great", "important", "sure", "just", "like", "even", "often", "always", "never", "really",
        "able", "one", "ones", "time", "times", "something", "someone", "others", "other", "overall", "however",
        "example", "instance", "include", "includes", "including", "ensure", "consider", "remember", "tips", "tip",
        "rather", "instead", "whether", "day",
    ]

    /// Stemmed content words and "stem stem" phrases of adjacent content words.
    mutating func terms(of text: String) -> Set<String> {
        var result = Set<String>()
        var previous: String?
        for token in Tokenizer.tokens(text) {
            let word = token.text.lowercased().replacingApostrophes
            guard word.count >= 3, word.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || $0 == "-" }),
                  !StopWords.contains(word), !Self.empty.contains(word), !word.hasSuffix("ly"),
                  !TermExtractor.commonOpeners.contains(word), !Self.verbs.contains(word) else {
                previous = nil
                continue
            }
            let stem = stemmer.stem(word)
            forms[stem, default: [:]][word, default: 0] += 1
            result.insert(stem)
            // A word repeated ("Ravens | Ravens" in a table) is no phrase.
            if let previous, previous != stem { result.insert(previous + " " + stem) }
            previous = stem
        }
        return result
    }

    /// Whether a single word can name a theme by itself: not in a form that is mostly a verb or an adjective
    /// ("possessing", "nutritional", "robust" only inside a phrase such as "Nutritional Content").
    func standsAlone(_ stem: String) -> Bool {
        guard let form = mostUsedForm(stem) else { return false }
        return !Self.modifierEndings.contains { form.hasSuffix($0) } && !Self.adjectives.contains(form)
    }

    static let modifierEndings = ["ing", "ed", "al", "ive", "ous", "ful", "able", "ible", "ic", "ish", "less", "est",
                                  "ier"]
    /// Verbs of advice that name nothing ("Reduce Phone" is not a theme), left out of terms altogether.
    static let verbs: Set<String> = ["reduce", "increase", "develop", "create", "avoid", "possess", "deliver", "build",
                                     "improve", "provide", "allow", "become", "require", "lead", "stay", "stop", "start",
                                     "give", "find", "see", "know", "want", "feel", "think", "look", "show", "set",
                                     "consult", "seek", "offer", "share", "check", "follow", "learn"]
    /// Adjectives without a tell-tale ending, which name a theme only inside a phrase.
    static let adjectives: Set<String> = ["robust", "strong", "new", "small", "large", "different", "specific", "healthy"]

    /// A term in its most used written form, each word capitalised ("moon phase" -> "Moon Phases").
    func display(_ term: String) -> String {
        term.split(separator: " ").map { stem -> String in
            let form = mostUsedForm(String(stem)) ?? String(stem)
            return form.prefix(1).uppercased() + form.dropFirst()
        }.joined(separator: " ")
    }

    /// The form `stem` was written in most often (ties: the alphabetically first), nil when never seen.
    private func mostUsedForm(_ stem: String) -> String? {
        let written = forms[stem] ?? [:]
        return written.keys.max { (written[$0]!, $1) < (written[$1]!, $0) }
    }
}
