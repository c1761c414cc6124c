import ArgumentParser
import ConvergeStore
import Foundation

/// `converge surveys delete ID`.
struct SurveysDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete a stored survey with its answers and analyses (its answers leave the response cache too)."
    )

    @Argument(help: "Survey id (the whole id: deleting takes no prefix).")
    var id: String

    @OptionGroup var storage: StoreOptions

    func run() async throws {
        try await storage.withStore { store in
            let survey = try await store.survey(id: id)
            // A prefix could name the wrong survey; deleting needs the id itself.
            guard survey.id == id else { throw StoreError.notFound(id) }
            try await store.deleteSurvey(id: id)
        }
        FileHandle.standardError.write(Data("converge: deleted survey \(id)\n".utf8))
    }
}
