import ArgumentParser
import ConvergeCore
import ConvergeStore
import Foundation

/// `converge batches delete ID`: the batch and, unless `--keep-surveys`, its surveys.
struct BatchesDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete a stored batch with its surveys (their answers leave the response cache too)."
    )

    @Argument(help: "Batch id (the whole id: deleting takes no prefix).")
    var id: String

    @Flag(name: .customLong("keep-surveys"), help: "Delete only the batch; its surveys stay (see `converge surveys list`).")
    var keepSurveys = false

    @Flag(help: "Delete even though a process on another machine is marked as asking one of its surveys.")
    var force = false

    @OptionGroup var storage: StoreOptions

    func run() async throws {
        let deleted = try await storage.withStore { store in
            let batch = try await store.batch(id: id)
            guard batch.id == id else {
                throw InputError(field: "batch \(id)", "delete takes the whole id (did you mean \(batch.id)?)")
            }
            var surveys: [StoredSurvey] = []
            if !keepSurveys {
                for item in batch.items {
                    guard let survey = try? await store.survey(id: item.surveyID), survey.id == item.surveyID else { continue }
                    try ContinueOptions.checkNobodyElseAsks(survey, force: force)
                    surveys.append(survey)
                }
            }
            try await store.deleteBatch(id: id)
            for survey in surveys { try await store.deleteSurvey(id: survey.id) }
            return surveys.count
        }
        FileHandle.standardError.write(Data("converge: deleted batch \(id) and \(deleted) \(deleted == 1 ? "survey" : "surveys")\n".utf8))
    }
}
