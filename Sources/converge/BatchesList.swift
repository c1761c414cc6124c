import ArgumentParser
import ConvergeStore
import Foundation

/// `converge batches list`: one batch a line, newest first.
struct BatchesList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List stored batches, newest first: id, created (UTC), prompts, source."
    )

    struct Summary: Encodable {
        var id: String
        var createdAt: String
        var prompts: Int
        var source: String
        var surveys: [String]
    }

    @OptionGroup var listing: ListOptions
    @OptionGroup var storage: StoreOptions

    var limit: Int { listing.limit }
    var offset: Int { listing.offset }
    var format: ListOptions.Format { listing.format }

    func run() async throws {
        if try storage.isMissingFile() {
            FileHandle.standardError.write(Data("converge: no batches yet (no database at \(try storage.location()))\n".utf8))
            if format == .json { FileHandle.standardOutput.write(Data("[]\n".utf8)) }
            return
        }
        let batches = try await storage.withStore { try await $0.batches(limit: limit, offset: offset) }
        if batches.isEmpty && offset == 0 { FileHandle.standardError.write(Data("converge: no batches yet\n".utf8)) }
        switch format {
        case .text:
            let out = batches.map {
                [$0.id, SurveyText.time($0.createdAt), String($0.items.count), SurveyText.shorten($0.source, to: 60)]
                    .joined(separator: "  ") + "\n"
            }.joined()
            FileHandle.standardOutput.write(Data(out.utf8))
        case .json:
            FileHandle.standardOutput.write(try SurveyText.json(batches.map {
                Summary(id: $0.id, createdAt: SurveyText.iso($0.createdAt), prompts: $0.items.count, source: $0.source,
                        surveys: $0.items.map(\.surveyID))
            }))
        }
    }
}
