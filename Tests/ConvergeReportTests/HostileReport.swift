import ConvergeCore
import Foundation

/// A report whose every text field is an attack on the page: answers, prompt, labels, ids, models, errors,
/// rubric, terms, conflicts and key point labels hold markup that would run script if it reached the page
/// as HTML. Each payload, if it ran, would set `document.title` to `PWNED`, set a `data-pwned` attribute on
/// the root element, or add an element with id `pwned`.
enum HostileReport {
    static let script = "<script>document.title='PWNED';document.documentElement.setAttribute('data-pwned','script')</script>"
    static let image = "<img src=x onerror=\"document.title='PWNED';document.documentElement.setAttribute('data-pwned','img')\">"
    static let link = "<a href=\"javascript:document.title='PWNED'\">click me</a>"
    static let svg = "<svg onload=\"document.title='PWNED';document.documentElement.setAttribute('data-pwned','svg')\"></svg>"
    static let attributeBreak = "\"><script>document.documentElement.setAttribute('data-pwned','attr')</script><b title='"
    static let iframe = "<iframe srcdoc=\"<script>parent.document.title='PWNED'</script>\"></iframe>"
    static let style = "<style>body{display:none}</style>"
    static let bareURL = "javascript:alert(1) and https://example.com/x"

    static var payloads: [String] { [script, image, link, svg, attributeBreak, iframe, style] }

    static let answers: [String: String] = [
        "p1": "Intro. \(script) Then \(image) and \(link).\n- \(svg) item\n\(bareURL)\n",
        "p2": "Café 👩‍👩‍👧 first. \(attributeBreak) middle \(iframe) end \(style).\n",
    ]

    static func report() -> Report {
        func ev(_ panelist: String, _ quote: String) -> Report.Evidence {
            let r = scalarRange(of: quote, in: answers[panelist]!)!
            return Report.Evidence(panelist: panelist, quote: quote, start: r.start, end: r.end)
        }
        let panelists = [
            Report.PanelistEntry(id: "p1", label: "P1 " + attributeBreak, model: "evil/" + script, status: .answered),
            Report.PanelistEntry(id: "p2", label: "P2 " + image, model: nil, status: .answered),
            Report.PanelistEntry(id: "p3\"><script>document.title='PWNED'</script>", label: "P3 " + svg,
                                 model: link, status: .failed, error: "HTTP 500: " + script + " " + bareURL),
        ]
        let keyPoints = [
            Report.KeyPoint(id: "kp-1\"><script>x()</script>", label: "Scripts " + script, category: "Cat " + image,
                            support: ["p1", "p2"], consensus: .unanimous,
                            evidence: [ev("p1", script), ev("p2", attributeBreak)], rubricItem: "r1"),
            Report.KeyPoint(id: "kp-2", label: "Links " + link, category: nil, support: ["p1"], consensus: .unique,
                            evidence: [ev("p1", link), ev("p1", svg)]),
            Report.KeyPoint(id: "kp-3", label: "Frames " + iframe, category: "Cat " + image, support: ["p2"],
                            consensus: .unique, evidence: [ev("p2", iframe), ev("p2", style)]),
        ]
        let terms = [Report.Term(text: script, kind: .name, support: ["p1"], evidence: [ev("p1", script)])]
        let r1 = ev("p1", image), r2 = ev("p2", iframe)
        let conflicts = [Report.Conflict(topic: "Topic " + svg, values: [
            .init(panelist: "p1", value: image, quote: image, start: r1.start, end: r1.end),
            .init(panelist: "p2", value: link, quote: iframe, start: r2.start, end: r2.end),
        ], keyPoint: "kp-2")]
        let rubric = Report.RubricCoverage(title: "Rubric " + script, items: [
            .init(id: "r1", category: "C " + image, text: "Item " + link, support: ["p1"], evidence: [ev("p1", bareURL)]),
            .init(id: "r2\">", category: "C " + image, text: "Missing " + svg, support: [], evidence: []),
        ])
        var report = Report(
            prompt: "Prompt " + script + "\n" + image, panelists: panelists, keyPoints: keyPoints, terms: terms,
            conflicts: conflicts, rubric: rubric,
            omissions: [.init(item: "r2\">", category: "C " + image, text: "Missing " + svg)],
            convergence: .init(index: 0.5, pairwise: ["p1": ["p1": 1, "p2": 0.5], "p2": ["p1": 0.5, "p2": 1]]),
            analysis: .init(engine: "e " + script, similarity: "s " + image, statements: 3, blind: false))
        report.turns = [Report.Turn(index: 0, prompt: report.prompt!, responses: [
            .init(panelist: "p1", sample: 0, status: .answered, text: answers["p1"]),
            .init(panelist: "p2", sample: 0, status: .answered, text: answers["p2"]),
            .init(panelist: "p3\"><script>document.title='PWNED'</script>", sample: 0, status: .failed, error: script),
        ])]
        return report
    }
}
