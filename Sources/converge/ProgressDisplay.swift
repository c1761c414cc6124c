import ConvergeCore
import ConvergeRunner
import Foundation

/// Progress of a live survey on standard error: one line per panelist with its state, the elapsed time and
/// the tokens it has generated. On a terminal the lines are redrawn in place (ANSI cursor-up and
/// erase-line); otherwise each change is printed as a plain line, which suits logs and CI.
final class ProgressDisplay {
    private struct Line {
        var panelist: Panelist
        var state = "waiting"
        var answered = 0
        var failed = 0
        var tokens = 0
        var finishedAt: Double?
    }

    private let start = ContinuousClock.now
    private let interactive: Bool
    private let quiet: Bool
    private let requestsPerPanelist: Int
    private var lines: [Line]
    private var index: [String: Int]
    private var drawn = 0

    init(panelists: [Panelist], requestsPerPanelist: Int, quiet: Bool,
         interactive: Bool = isatty(STDERR_FILENO) == 1) {
        self.lines = panelists.map { Line(panelist: $0) }
        self.index = Dictionary(uniqueKeysWithValues: panelists.enumerated().map { ($1.id, $0) })
        self.requestsPerPanelist = requestsPerPanelist
        self.quiet = quiet
        self.interactive = interactive
        if interactive && !quiet { redraw() }
    }

    private var elapsed: Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }

    func handle(_ event: SurveyEvent) {
        guard !quiet, let i = index[event.key.panelistID] else { return }
        let turn = "turn \(event.key.turn + 1)" + (requestsPerPanelist > 1 ? ", sample \(event.key.sample + 1)" : "")
        switch event {
        case .started(_, let attempt):
            lines[i].state = attempt > 1 ? "asking (\(turn), attempt \(attempt))" : "asking (\(turn))"
        case .retrying(_, let attempt, let delay, let reason):
            lines[i].state = String(format: "retry in %.1f s after attempt %d: %@", delay, attempt, reason)
        case .answered(_, let response):
            lines[i].answered += 1
            lines[i].tokens += response.outputTokens ?? 0
            lines[i].state = "answered \(turn) in \(response.latencyMs) ms"
        case .failed(_, let cause):
            lines[i].failed += 1
            lines[i].state = "failed \(turn): \(cause)"
        }
        if lines[i].answered + lines[i].failed == requestsPerPanelist { lines[i].finishedAt = elapsed }
        if interactive {
            redraw()
        } else {
            write(render(lines[i]))
        }
    }

    private func render(_ line: Line) -> String {
        let time = String(format: "%5.1fs", line.finishedAt ?? elapsed)
        let done = line.answered + line.failed
        let count = requestsPerPanelist > 1 ? " \(done)/\(requestsPerPanelist)" : ""
        let tokens = line.tokens > 0 ? " · \(line.tokens) tokens" : ""
        return "\(time)  \(line.panelist.label)\(count): \(line.state)\(tokens)"
    }

    /// Columns of the terminal on standard error (lines longer than it would wrap and break the redraw).
    private var columns: Int {
        var size = winsize()
        guard ioctl(STDERR_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }

    private func redraw() {
        var text = drawn > 0 ? "\u{1B}[\(drawn)A" : ""
        let width = max(columns - 1, 10)
        for line in lines {
            var rendered = render(line)
            if rendered.count > width { rendered = String(rendered.prefix(width - 1)) + "…" }
            text += "\r\u{1B}[2K" + rendered + "\n"
        }
        drawn = lines.count
        FileHandle.standardError.write(Data(text.utf8))
    }

    private func write(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    /// Prints a message below the progress lines.
    func note(_ message: String) {
        if interactive && !quiet { redraw() }
        write(message)
        if interactive { drawn = 0 }
    }
}
