import ArgumentParser

/// `converge batches`: the stored batches.
struct Batches: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, show, export, resume and delete stored batches.",
        discussion: "An ID may be shortened to a unique prefix of at least 4 characters (but for delete).",
        subcommands: [BatchesList.self, BatchesShow.self, BatchesExport.self, BatchesResume.self, BatchesDelete.self]
    )
}
