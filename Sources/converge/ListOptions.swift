import ArgumentParser

/// Paging and output form of the `list` commands (`surveys list`, `batches list`): newest first.
struct ListOptions: ParsableArguments {
    enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

    @Option(help: "Most to list.")
    var limit = 50

    @Option(help: "How many to skip (for paging).")
    var offset = 0

    @Option(help: "text (one line each) or json (an array, for scripts).")
    var format: Format = .text

    func validate() throws {
        if limit < 1 { throw ValidationError("--limit must be at least 1") }
        if offset < 0 { throw ValidationError("--offset must not be negative") }
    }
}
