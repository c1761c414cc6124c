extension Report {
    /// The same report with panelists shown as `AI 1`, `AI 2`, ... (ids `ai-1`, `ai-2`, ... in panel order)
    /// and no model names: every panelist reference is rewritten (support, evidence, terms, conflicts,
    /// rubric coverage, convergence, turns). Error messages are kept; they name providers, not models' answers.
    public func blinded() -> Report {
        var ids: [String: String] = [:]
        for (n, panelist) in panelists.enumerated() { ids[panelist.id] = "ai-\(n + 1)" }
        func map(_ id: String) -> String { ids[id] ?? id }
        func map(_ evidence: Evidence) -> Evidence {
            var e = evidence
            e.panelist = map(e.panelist)
            return e
        }
        var report = self
        report.panelists = panelists.enumerated().map { n, p in
            PanelistEntry(id: "ai-\(n + 1)", label: "AI \(n + 1)", model: nil, status: p.status, error: p.error)
        }
        report.keyPoints = keyPoints.map { point in
            var p = point
            p.support = point.support.map(map)
            p.evidence = point.evidence.map(map)
            p.stability = point.stability.map { Dictionary(uniqueKeysWithValues: $0.map { (map($0.key), $0.value) }) }
            return p
        }
        report.terms = terms.map { term in
            var t = term
            t.support = term.support.map(map)
            t.evidence = term.evidence.map(map)
            return t
        }
        report.conflicts = conflicts.map { conflict in
            var c = conflict
            c.values = conflict.values.map { v in
                var value = v
                value.panelist = map(v.panelist)
                return value
            }
            return c
        }
        report.rubric = rubric.map { rubric in
            var r = rubric
            r.items = rubric.items.map { item in
                var i = item
                i.support = item.support.map(map)
                i.evidence = item.evidence.map(map)
                return i
            }
            return r
        }
        report.convergence.pairwise = Dictionary(uniqueKeysWithValues: convergence.pairwise.map { a, row in
            (map(a), Dictionary(uniqueKeysWithValues: row.map { (map($0.key), $0.value) }))
        })
        report.turns = turns.map { turns in
            turns.map { turn in
                var t = turn
                t.responses = turn.responses.map { r in
                    var response = r
                    response.panelist = map(r.panelist)
                    return response
                }
                return t
            }
        }
        report.analysis?.blind = true
        return report
    }
}
