import ConvergeCore

/// Categories for key points when there is no rubric, from the answers' own section headings (the strongest
/// evidence of how their authors grouped the points, as the seed case's editor did).
///
/// Each key point's hint is the section label (`Statement.sectionLabel`) that most of its statements sit under;
/// labels that reduce to the same content stems ("Macronutrients", "**Macronutrients:**") are one category, named
/// by its most frequent form. At most `maxCategories` categories are kept, those whose key points have the most
/// support, and only those that hold two key points or more; a key point without a kept hint joins the category
/// holding its most similar statement when that similarity reaches `joinFactor` × the model's cluster threshold,
/// and stays uncategorised otherwise. With fewer than `minCategories` categories the answers give no usable
/// grouping and every key point stays uncategorised (reports then group by consensus level). Deterministic; one
/// pass over the model's candidate pairs.
struct Categorizer {
    var minCategories = 3
    var maxCategories = 8
    var joinFactor = 0.9

    /// The category of each group (indexed like `groups`), or nil.
    func categories(_ groups: [[Int]], statements: [Statement], similarity: any PreparedSimilarity,
                    threshold: Double) -> [String?] {
        // The hint of each group: its most frequent section label (ties: the earliest statement's).
        var hints: [String?] = []
        for group in groups {
            var counts: [String: Int] = [:]
            for s in group { if let label = statements[s].sectionLabel { counts[key(label), default: 0] += 1 } }
            let best = group.compactMap { statements[$0].sectionLabel }.map(key).max { counts[$0]! < counts[$1]! }
            hints.append(best)
        }
        // Category names: the most frequent surface form of each key.
        var forms: [String: [String: Int]] = [:]
        for group in groups {
            for s in group {
                if let label = statements[s].sectionLabel { forms[key(label), default: [:]][label, default: 0] += 1 }
            }
        }
        var weight: [String: Int] = [:]
        for (g, hint) in hints.enumerated() {
            if let hint {
                weight[hint, default: 0] += Set(groups[g].map { statements[$0].answerIndex }).count
            }
        }
        // A section that holds two key points or more is a theme; a label over one point's details is that point's
        // own heading.
        let themes = weight.keys.filter { k in hints.filter { $0 == k }.count >= 2 }
        let kept = themes.sorted { (weight[$0]!, $1) > (weight[$1]!, $0) }.prefix(maxCategories)
        guard kept.count >= minCategories else { return groups.map { _ in nil } }
        let keptSet = Set(kept)
        var result: [String?] = hints.map { $0.flatMap { keptSet.contains($0) ? $0 : nil } }
        // Unhinted key points join the category of their most similar categorised statement, among the model's
        // candidate pairs (near-linear for lexical matching).
        var groupOf: [Int: Int] = [:]
        for (g, group) in groups.enumerated() { for s in group { groupOf[s] = g } }
        var best: [Int: (category: String, score: Double)] = [:]
        for pair in similarity.pairs(minimum: threshold * joinFactor) {
            guard let x = groupOf[pair.a], let y = groupOf[pair.b] else { continue }
            for (from, to) in [(x, y), (y, x)] where result[from] == nil {
                guard let category = result[to] else { continue }
                if let current = best[from], current.score > pair.score
                    || (current.score == pair.score && current.category <= category) { continue }
                best[from] = (category, pair.score)
            }
        }
        for (g, choice) in best { result[g] = choice.category }
        return result.map { key in
            key.map { k in
                let counts = forms[k] ?? [:]
                return counts.keys.sorted { (counts[$0]!, $1) > (counts[$1]!, $0) }.first ?? k
            }
        }
    }

    /// Labels that mean the same section: their content stems, sorted.
    func key(_ label: String) -> String {
        let stems = Set(LexicalSpace.features(of: label))
        return stems.isEmpty ? label.lowercased() : stems.sorted().joined(separator: " ")
    }
}
