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
/// statements across answers only, so nothing before this step can join them. Cost: each statement is checked
/// against the names filed under one of its words (each name under its rarest word among its answer's names),
/// near-linear in the answers' length.
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
        // Per answer, each name is filed under its rarest word among the answer's names (an inverted index), so a
        // statement is checked only against the names whose rarest word it holds: names made of one common word
        // ("... tips") do not make every statement a pass over every name.
        var names: [(statement: Int, words: Set<String>)] = []
        for (i, s) in statements.enumerated() where groupOf[i] != nil
            && (s.isLeadIn || (s.kind == .heading && !s.announcesSection)) {
            let words = content(s.text)
            if words.count >= 2 { names.append((i, words)) }
        }
        var frequency: [Int: [String: Int]] = [:]
        for name in names {
            for word in name.words { frequency[statements[name.statement].answerIndex, default: [:]][word, default: 0] += 1 }
        }
        var namesOfWord: [Int: [String: [Int]]] = [:]
        for (n, name) in names.enumerated() {
            let answer = statements[name.statement].answerIndex
            let rarest = name.words.min { (frequency[answer]?[$0] ?? 0, $0) < (frequency[answer]?[$1] ?? 0, $1) }!
            namesOfWord[answer, default: [:]][rarest, default: []].append(n)
        }
        var moved: [(statement: Int, to: Int)] = []
        for (i, s) in statements.enumerated() {
            guard let from = groupOf[i], !s.isLeadIn, s.kind != .heading,
                  let index = namesOfWord[s.answerIndex] else { continue }
            let words = content(s.text)
            let restated = words.flatMap { index[$0] ?? [] }.filter { n in
                names[n].words.isSubset(of: words) && words.count - names[n].words.count <= extraWords
                    && statements[names[n].statement].end <= s.start
            }
            guard let best = restated.map({ names[$0].words.count }).max() else { continue }
            let top = restated.filter { names[$0].words.count == best }
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
