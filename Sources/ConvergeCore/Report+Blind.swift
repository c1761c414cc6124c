extension Report {
    /// The same report with panelists shown as `AI 1`, `AI 2`, ... (ids `ai-1`, `ai-2`, ... in panel order)
    /// and no model names: every panelist reference is rewritten (support, evidence, terms, conflicts,
    /// rubric coverage, convergence, turns, the judge's claims), and model names, ids and labels are replaced in
    /// error messages and in the judge's text (a judge on the panel is named by its blind label).
    public func blinded() -> Report {
        var ids: [String: String] = [:]
        for (n, panelist) in panelists.enumerated() { ids[panelist.id] = "ai-\(n + 1)" }
        func map(_ id: String) -> String { ids[id] ?? id }
        func map(_ evidence: Evidence) -> Evidence {
            var e = evidence
            e.panelist = map(e.panelist)
            return e
        }
        // Provider errors often name the model ("The model `gpt-4o` does not exist"): replace every model
        // spec, model name, id and label with the blind label, longest first.
        var names: [(String, String)] = []
        for (n, p) in panelists.enumerated() {
            let blind = "AI \(n + 1)"
            var known = [p.id, p.label]
            if let model = p.model {
                known.append(model)
                if let slash = model.firstIndex(of: "/") { known.append(String(model[model.index(after: slash)...])) }
            }
            names += known.filter { $0.count >= 2 }.map { ($0, blind) }
        }
        names.sort { $0.0.count > $1.0.count }
        func scrub(_ text: String?) -> String? {
            guard var text else { return nil }
            for (name, blind) in names { text = text.replacingOccurrences(of: name, with: blind) }
            return text
        }
        var report = self
        report.panelists = panelists.enumerated().map { n, p in
            PanelistEntry(id: "ai-\(n + 1)", label: "AI \(n + 1)", model: nil, status: p.status, error: scrub(p.error))
        }
        report.keyPoints = keyPoints.map { point in
            var p = point
            p.support = point.support.map(map)
            p.evidence = point.evidence.map(map)
            p.stability = point.stability.map { Dictionary(uniqueKeysWithValues: $0.map { (map($0.key), $0.value) }) }
            return p
        }
        report.filler = filler.map { $0.map { Filler(evidence: map($0.evidence), reason: $0.reason) } }
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
                    response.error = scrub(r.error)
                    return response
                }
                return t
            }
        }
        report.judge = judge.map { judge in
            var j = judge
            // A judge on the panel is named by its blind label; another judge keeps its spec (it is no panelist).
            if let index = panelists.firstIndex(where: { $0.model == judge.model || $0.id == judge.model }) {
                j.model = "AI \(index + 1)"
            }
            j.error = scrub(judge.error)
            func claim(_ c: JudgeClaim) -> JudgeClaim {
                var claim = c
                claim.text = scrub(c.text) ?? c.text
                claim.support = c.support.map(map)
                claim.evidence = c.evidence.map(map)
                claim.removedSupport = c.removedSupport.map(map)
                return claim
            }
            j.consensus = judge.consensus.map(claim)
            j.unique = judge.unique.map(claim)
            j.contradictions = judge.contradictions.map { c in
                JudgeContradiction(topic: scrub(c.topic) ?? c.topic, sides: c.sides.map { side in
                    JudgeContradiction.Side(panelist: map(side.panelist), stance: scrub(side.stance) ?? side.stance,
                                            evidence: map(side.evidence))
                })
            }
            j.synthesis = judge.synthesis.map { JudgeSynthesisSentence(text: scrub($0.text) ?? $0.text, keyPoints: $0.keyPoints) }
            j.dropped = judge.dropped.map { JudgeDroppedClaim(kind: $0.kind, text: scrub($0.text) ?? $0.text,
                                                              reason: scrub($0.reason) ?? $0.reason) }
            return j
        }
        report.analysis?.blind = true
        return report
    }
}
