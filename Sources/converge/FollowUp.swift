import ArgumentParser
import ConvergeCore
import ConvergeRunner
import Foundation

/// `converge follow-up ID PROMPT`: one more turn for every thread of a stored survey.
struct FollowUp: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "follow-up",
        abstract: "Ask a stored survey's panel a follow-up, in each panelist's own thread, and report on it.",
        discussion: "Earlier turns are sent as each thread's history from the store; they are not asked again."
    )

    @Argument(help: "Survey id (or a unique prefix).")
    var id: String

    @Argument(help: "The follow-up prompt.")
    var prompt: String

    @OptionGroup var continuing: ContinueOptions
    @OptionGroup var storage: StoreOptions
    @OptionGroup var report: ReportOptions

    func validate() throws {
        if prompt.trimmingWhitespace.isEmpty { throw ValidationError("the follow-up is empty") }
    }

    func run() async throws {
        try report.preflight()
        try await storage.withStore { store in
            let archive = SurveyArchive(store: store)
            let survey = try await archive.load(id)
            try ContinueOptions.checkNobodyElseAsks(survey.record, force: continuing.force)
            try ContinueOptions.checkAskable(survey)
            try await continuing.checkQueue(store, surveyIDs: [survey.record.id])
            _ = try await store.appendTurn(surveyID: survey.record.id, prompt: prompt)
            try await continuing.run(try await archive.load(survey.record.id), store: store, report: report)
        }
    }
}
