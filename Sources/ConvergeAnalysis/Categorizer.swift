import ConvergeCore
import Foundation

/// Categories for key points when there is no rubric: 3 to 8 themes gathered by content and named from the
/// answers' own words, the way the seed case's editor grouped the bullets ("Experience", "Technical Expertise",
/// "Leadership & Mentorship").
///
/// Themes: average-linkage agglomerative clustering of the key points on `PreparedSimilarity.relatedness` (the
/// cosine of their centred embedding centroids, or of their TF-IDF centroids for lexical matching), with a bonus
/// for key points that sit under the same section heading of one answer (how that answer's author grouped them),
/// merged down to `themeCount` = round(key points / 3) within 3...8; a theme of one key point then joins the
/// theme it is most related to. Names, in order of preference: a section label (heading or announcing label) over
/// at least half of the theme's key points; else the theme's most central short lead-in or heading (a noun phrase
/// before an imperative: "Sturdy Cutting Board" before "Use a sharp knife"); else a short key point label; else the
/// terms its key points share (`ThemeTerms`, c-TF-IDF: "Gibbous Moon", "Horizon & Location"); else its widest key
/// point's label, shortened. Each name is used once. Fewer than `minimumKeyPoints` key points get no categories (reports then
/// group by consensus level). Deterministic and independent of answer order (groups are taken in canonical order,
/// relatedness is rounded); at most `maxClustered` key points are clustered (the widest), the others join the
/// theme of the one they are most related to, so the cost stays linear in the number of key points beyond that.
struct Categorizer {
    var minCategories = 3
    var maxCategories = 8
    var minimumKeyPoints = 6
    var keyPointsPerTheme = 3.0
    /// Added to the relatedness of two key points under one section label of one answer.
    var sectionBonus = 0.2
    var maxClustered = 240
    /// Least mean relatedness at which a key point left alone joins a theme.
    var minimumJoin = 0.05
    /// Longest theme name taken from a heading or lead-in, in words.
    var maxNameWords = 6

    /// The category of each group (indexed like `groups`, which come widest support first; `labels` are their key
    /// points' labels), or nil.
    func categories(_ groups: [[Int]], labels: [String], statements: [Statement], similarity: any PreparedSimilarity,
                    rank: [Int]) -> [String?] {
        guard groups.count >= minimumKeyPoints else { return groups.map { _ in nil } }
        // Canonical order: groups by their first statement in canonical rank, statements likewise.
        let canonical = groups.map { $0.sorted { rank[$0] < rank[$1] } }
        let order = canonical.indices.sorted { rank[canonical[$0][0]] < rank[canonical[$1][0]] }
        let clustered = order.filter { $0 < maxClustered }
        let members = clustered.map { canonical[$0] }
        var affinity = similarity.relatedness(members, members)
        let sections = members.map { Set($0.compactMap { s in statements[s].sectionLabel.map { "\(statements[s].answerIndex):\(key($0))" } }) }
        for i in members.indices {
            for j in members.indices where i != j && !sections[i].isDisjoint(with: sections[j]) {
                affinity[i][j] += sectionBonus
            }
        }
        let target = min(maxCategories, max(minCategories, Int((Double(members.count) / keyPointsPerTheme).rounded())))
        // No theme grows past twice its share, so that one broad theme does not swallow the rest.
        let cap = max(4, Int((2 * Double(members.count) / Double(target)).rounded(.up)))
        var themes = agglomerate(affinity, target: target, maxSize: cap)
        // A theme of one key point is that point, not a theme: it joins its most related theme if it is related to
        // one at all (and it has room), and is left uncategorised ("Other points") otherwise.
        var singles = themes.filter { $0.count == 1 }.map { $0[0] }
        themes.removeAll { $0.count == 1 }
        guard themes.count >= minCategories else { return groups.map { _ in nil } }
        singles.sort()
        for x in singles {
            var best: Int?, bestScore = minimumJoin
            for (t, theme) in themes.enumerated() where theme.count < cap {
                let score = theme.map { affinity[x][$0] }.sorted().reduce(0, +) / Double(theme.count)
                if score > bestScore { best = t; bestScore = score }
            }
            if let best { themes[best].append(x) }
        }
        var themeOf = [Int?](repeating: nil, count: groups.count)
        for (t, theme) in themes.enumerated() { for m in theme { themeOf[clustered[m]] = t } }
        // The key points not clustered join the theme of their most related clustered key point.
        let rest = order.filter { themeOf[$0] == nil }
        if !rest.isEmpty {
            let scores = similarity.relatedness(rest.map { canonical[$0] }, members)
            for (r, g) in rest.enumerated() {
                var best = 0
                for m in members.indices where scores[r][m] > scores[r][best] { best = m }
                if scores[r][best] > minimumJoin { themeOf[g] = themeOf[clustered[best]] }
            }
        }
        let names = self.names(themes.map { $0.map { canonical[clustered[$0]] } }, groupsOfTheme: themes.map { $0.map { clustered[$0] } },
                               labels: labels, statements: statements, similarity: similarity, rank: rank)
        return themeOf.map { $0.map { names[$0] } }
    }

    /// Average-linkage agglomeration (Lance-Williams update) of the items of `affinity` down to `target` clusters;
    /// ties go to the lowest indices. Clusters come out in order of their first item.
    func agglomerate(_ affinity: [[Double]], target: Int, maxSize: Int) -> [[Int]] {
        var clusters = affinity.indices.map { [$0] }
        var link = affinity
        var active = Array(affinity.indices)
        while active.count > target {
            var best: (i: Int, j: Int, score: Double)?
            for (p, i) in active.enumerated() {
                for j in active[(p + 1)...] where clusters[i].count + clusters[j].count <= maxSize
                    && (best == nil || link[i][j] > best!.score) {
                    best = (i, j, link[i][j])
                }
            }
            guard let (i, j, _) = best else { break }
            let (ni, nj) = (Double(clusters[i].count), Double(clusters[j].count))
            for k in active where k != i && k != j {
                let merged = (ni * link[i][k] + nj * link[j][k]) / (ni + nj)
                link[i][k] = merged
                link[k][i] = merged
            }
            clusters[i] += clusters[j]
            active.removeAll { $0 == j }
        }
        return active.map { clusters[$0].sorted() }
    }

    /// One name per theme (`themes[t]` holds its key points' statements, `groupsOfTheme[t]` their indices).
    func names(_ themes: [[[Int]]], groupsOfTheme: [[Int]], labels: [String], statements: [Statement],
               similarity: any PreparedSimilarity, rank: [Int]) -> [String] {
        var used = Set<String>()
        var result = [String](repeating: "", count: themes.count)
        let termNames = ThemeTerms().names(themes, statements: statements)
        // Widest themes choose first.
        let order = themes.indices.sorted { (themes[$0].count, $1) > (themes[$1].count, $0) }
        for t in order {
            let theme = themes[t]
            var candidates: [String] = []
            // Section labels over at least half of the theme's key points (and two of them).
            var under: [String: Set<Int>] = [:], forms: [String: [String: Int]] = [:]
            for (g, group) in theme.enumerated() {
                for s in group {
                    guard let label = statements[s].sectionLabel, let name = Self.name(label, maxWords: maxNameWords) else { continue }
                    under[key(label), default: []].insert(g)
                    forms[key(label), default: [:]][name, default: 0] += 1
                }
            }
            let strong = under.filter { $0.value.count >= max(2, (theme.count + 1) / 2) }
            for k in strong.keys.sorted(by: { (strong[$0]!.count, $1) > (strong[$1]!.count, $0) }) {
                let counts = forms[k]!
                candidates += counts.keys.sorted { (counts[$0]!, $1) > (counts[$1]!, $0) }
            }
            // Lead-ins and headings of the theme's key points, most central first, noun phrases before imperatives.
            let heads = theme.flatMap { $0 }.filter { statements[$0].isLeadIn || statements[$0].kind == .heading }
                .sorted { rank[$0] < rank[$1] }
            let named = heads.compactMap { s in Self.name(statements[s].text, maxWords: maxNameWords).map { (s, $0) } }
            if !named.isEmpty {
                let centrality = similarity.relatedness(named.map { [$0.0] }, theme)
                    .map { $0.sorted().reduce(0, +) / Double(max(1, $0.count)) }
                let ranked = named.indices.sorted { a, b in
                    let (ia, ib) = (Self.isImperative(named[a].1), Self.isImperative(named[b].1))
                    if ia != ib { return !ia }
                    if centrality[a] != centrality[b] { return centrality[a] > centrality[b] }
                    return (named[a].1.count, named[a].1) < (named[b].1.count, named[b].1)
                }
                candidates += ranked.map { named[$0].1 }
            }
            // The key points' own labels: short ones, noun phrases first, widest first.
            // Widest by answers, ties in canonical order (the groups' own order depends on the answers' order).
            let answers = theme.map { Set($0.map { statements[$0].answerIndex }).count }
            let byWidth = theme.indices.sorted { a, b in
                answers[a] != answers[b] ? answers[a] > answers[b] : rank[theme[a][0]] < rank[theme[b][0]]
            }.map { groupsOfTheme[t][$0] }
            let short = byWidth.compactMap { Self.name(labels[$0], maxWords: maxNameWords) }
            candidates += short.filter { !Self.isImperative($0) } + short.filter(Self.isImperative)
            // The words the theme's key points share, before a key point's label cut short (a fragment).
            if let term = termNames[t] { candidates.append(term) }
            let name = candidates.first { !used.contains($0.lowercased()) }
                ?? Self.shortened(byWidth.map { labels[$0] }.min { ($0.count, $0) < ($1.count, $1) }!, used: used)
            used.insert(name.lowercased())
            result[t] = name
        }
        return result
    }

    /// A heading or lead-in as a theme name: plain text without numbering ("1.", "Step 2:"), a trailing colon or
    /// full stop, or discourse words; nil when longer than `maxWords` words or empty.
    static func name(_ text: String, maxWords: Int) -> String? {
        var name = Labels.plain(Labels.withoutDiscourseOpener(text))
        while let first = name.first, first.isNumber || first == "#" || first == "." || first == ")" || first == " " {
            name.removeFirst()
        }
        for prefix in ["Step ", "Tip ", "Part "] where name.hasPrefix(prefix) {
            let rest = name.dropFirst(prefix.count).drop { $0.isNumber }
            if rest.first == ":" || rest.first == "." { name = String(rest.dropFirst()).trimmingWhitespace }
        }
        while let last = name.last, last == ":" || last == "." || last == " " { name.removeLast() }
        let words = Tokenizer.tokens(name).map { $0.text.lowercased() }
        guard !words.isEmpty, words.count <= maxWords, !name.hasSuffix("?"), !name.hasSuffix(","),
              !words.allSatisfy(genericWords.contains), !fragmentOpeners.contains(words[0]),
              !StopWords.contains(words[words.count - 1]) else { return nil }
        if let first = name.first, first.isLowercase { name = first.uppercased() + name.dropFirst() }
        return name
    }

    /// Words of headings that name no theme ("Additional tips", "Final thoughts").
    static let genericWords: Set<String> = ["additional", "other", "more", "extra", "general", "tips", "tip", "advice",
                                            "notes", "note", "key", "points", "point", "conclusion", "summary",
                                            "introduction", "overview", "final", "thoughts", "bonus", "important",
                                            "things", "ideas", "misc", "miscellaneous", "and", "some", "a", "few"]
    /// First words of a clause rather than a name ("Which is easier to control", "If possible, ...").
    static let fragmentOpeners: Set<String> = ["if", "which", "it", "whether", "this", "that", "these", "those", "when",
                                               "while", "because", "such", "as", "so", "but", "or", "and", "to",
                                               "they", "you", "we", "i", "it's", "there", "their", "your", "our"]

    static func isImperative(_ name: String) -> Bool {
        guard let first = Tokenizer.tokens(name).first?.text.lowercased() else { return false }
        return TermExtractor.commonOpeners.contains(first) || ["avoid", "stay", "cut", "hold", "go", "be", "do", "don't",
                                                               "never", "always", "practice", "seek", "find"].contains(first)
    }

    /// The first six words of `text`, without trailing function words, and a number if needed to make it unused.
    static func shortened(_ text: String, used: Set<String>) -> String {
        var cut = Array(text.split(separator: " ").prefix(6))
        while cut.count > 1, let last = cut.last, StopWords.contains(last.lowercased().trimmingCharacters(in: .punctuationCharacters)) {
            cut.removeLast()
        }
        let words = cut.joined(separator: " ").trimmingCharacters(in: CharacterSet(charactersIn: ",;:"))
        var name = words, n = 2
        while used.contains(name.lowercased()) { name = "\(words) (\(n))"; n += 1 }
        return name
    }

    /// Labels that mean the same section: their content stems, sorted.
    func key(_ label: String) -> String {
        let stems = Set(LexicalSpace.features(of: label))
        return stems.isEmpty ? label.lowercased() : stems.sorted().joined(separator: " ")
    }
}
