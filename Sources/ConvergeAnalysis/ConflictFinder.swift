import ConvergeCore

/// Conflicts (ARCHITECTURE.md, "Terms"): panelists that address the same key point with different quantities of the same
/// unit (`5+ years` vs `5-8+ years`). Quantities are compared by their normalised value; a panelist
/// contributes its first quantity of that unit within the key point's statements; the quote is that statement.
enum ConflictFinder {
    static func conflicts(keyPoints: [Report.KeyPoint], groups: [[Int]], statements: [Statement],
                          mentions: [TermMention], panelistOfAnswer: [Int], panelists: [Panelist])
        -> [Report.Conflict] {
        // Quantities by answer, sorted by offset, to find those inside a statement by binary search.
        var quantities = [[TermMention]](repeating: [], count: panelistOfAnswer.count)
        for m in mentions where m.kind == .quantity { quantities[m.answerIndex].append(m) }
        for a in quantities.indices { quantities[a].sort { $0.start < $1.start } }
        var result: [Report.Conflict] = []
        var reported = Set<[String]>()
        for (point, group) in zip(keyPoints, groups) {
            var byUnit: [String: [Int: (mention: TermMention, statement: Statement)]] = [:]
            for s in group {
                let statement = statements[s]
                let p = panelistOfAnswer[statement.answerIndex]
                let inAnswer = quantities[statement.answerIndex]
                var first = 0, last = inAnswer.count
                while first < last {  // first quantity starting at or after the statement
                    let mid = (first + last) / 2
                    if inAnswer[mid].start < statement.start { first = mid + 1 } else { last = mid }
                }
                for m in inAnswer[first...].prefix(while: { $0.start < statement.end }) where m.end <= statement.end {
                    if byUnit[m.unit!, default: [:]][p] == nil { byUnit[m.unit!, default: [:]][p] = (m, statement) }
                }
            }
            for unit in byUnit.keys.sorted() {
                let values = byUnit[unit]!
                guard values.count >= 2, Set(values.values.map(\.mention.value)).count >= 2 else { continue }
                let entries = values.keys.sorted().map { p in
                    let (m, statement) = values[p]!
                    return Report.ConflictValue(panelist: panelists[p].id, value: m.text, quote: statement.text,
                                                start: statement.start, end: statement.end)
                }
                let signature = entries.map { "\($0.panelist):\($0.start)" }
                guard reported.insert(signature).inserted else { continue }
                result.append(Report.Conflict(topic: point.label, values: entries, keyPoint: point.id))
            }
        }
        return result
    }
}
