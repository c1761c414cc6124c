import ConvergeCore

/// Joins a panelist's later restatement of one of its own named points to that point: a closing "In summary,
/// the combination of the moon's brightness, ... and the angle of sunlight" names points the answer made
/// under `**Brightness of the Moon**:` and `**Angle of Sunlight**:`, and each such name is a mention of that
/// point (ANNOTATION.md: "a restatement in the summary" is one more place the panelist makes it), not a key
/// point of its own, nor a reason to join another panelist's point.
///
/// A statement restates a name when both are of one answer, the name is a bold lead-in or a heading that is a
/// point (not one that announces a section), it comes before the statement, its content words (stemmed, stop
/// words left out) number two or more and all occur in the statement, and the statement adds at most
/// `extraWords` content words of its own (a short restatement, not a new sentence that happens to use the
/// words). A statement that restates two names equally well stays where clustering put it. Clustering pairs
/// statements across answers only, so nothing before this step can join them. Cost: each statement's content
/// words' lists of names (an inverted index per answer), near-linear in the answers' length.
struct RestatementJoiner {
    var extraWords = 4

    /// `groups` with each restating statement moved into the group of the name it restates; empty groups left
    /// out. Deterministic; the order of the groups is kept.
    func join(_ groups: [[Int]], statements: [Statement]) -> [[Int]] {
        var groupOf: [Int: Int] = [:]
        for (g, group) in groups.enumerated() { for s in group { groupOf[s] = g } }
        let stemmer = EnglishStemmer()
        func content(_ text: String) -> Set<String> {
            Set(RubricPhrase.words(text).filter { !StopWords.contains($0) && $0.contains(where: \.isLetter) }
                .map { stemmer.stem($0) })
        }
        // Per answer, each content word's names (an inverted index): a name is in a statement when every one of
        // its words is hit, so a statement costs its words' posting lists, not a pass over every name.
        var names: [(statement: Int, size: Int)] = []
        var namesOfWord: [Int: [String: [Int]]] = [:]
        for (i, s) in statements.enumerated() where groupOf[i] != nil
            && (s.isLeadIn || (s.kind == .heading && !s.announcesSection)) {
            let words = content(s.text)
            guard words.count >= 2 else { continue }
            for word in words { namesOfWord[s.answerIndex, default: [:]][word, default: []].append(names.count) }
            names.append((i, words.count))
        }
        var moved: [(statement: Int, to: Int)] = []
        for (i, s) in statements.enumerated() {
            guard let from = groupOf[i], !s.isLeadIn, s.kind != .heading,
                  let index = namesOfWord[s.answerIndex] else { continue }
            let words = content(s.text)
            var hits: [Int: Int] = [:]
            for word in words { for n in index[word] ?? [] { hits[n, default: 0] += 1 } }
            let restated = hits.filter { n, count in
                count == names[n].size && words.count - names[n].size <= extraWords
                    && statements[names[n].statement].end <= s.start
            }.map(\.key)
            guard let best = restated.map({ names[$0].size }).max() else { continue }
            let top = restated.filter { names[$0].size == best }
            guard top.count == 1, let to = groupOf[names[top[0]].statement], to != from else { continue }
            moved.append((i, to))
        }
        guard !moved.isEmpty else { return groups }
        var result = groups
        let leaving = Set(moved.map(\.statement))
        for g in result.indices { result[g].removeAll { leaving.contains($0) } }
        for move in moved { result[move.to].append(move.statement) }
        return result.filter { !$0.isEmpty }.map { $0.sorted() }
    }
}
