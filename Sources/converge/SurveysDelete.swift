import ArgumentParser
import ConvergeCore
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

    @Flag(help: "Delete even though a process on another machine is marked as asking the survey.")
    var force = false

    @OptionGroup var storage: StoreOptions

    func run() async throws {
        try await storage.withStore { store in
            let survey = try await store.survey(id: id)
            // A prefix could name the wrong survey; deleting needs the id itself.
            guard survey.id == id else {
                throw InputError(field: "survey \(id)", "delete takes the whole id (did you mean \(survey.id)?)")
            }
            try ContinueOptions.checkNobodyElseAsks(survey, force: force)
            try await store.deleteSurvey(id: id)
        }
        FileHandle.standardError.write(Data("converge: deleted survey \(id)\n".utf8))
    }
}
