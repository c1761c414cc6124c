import ArgumentParser
import ConvergeAnalysis
import ConvergeCore
import ConvergeProviders
import ConvergeRunner
import ConvergeStore
import Foundation

/// Options for commands that send a stored survey's requests again (`surveys resume`, `follow-up`).
struct ContinueOptions: ParsableArguments {
    @Option(help: "Per-request timeout in seconds (default: the survey's).")
    var timeout: Double?

    @Option(help: "Most requests in flight (default: the survey's).")
    var concurrency: Int?

    @Option(help: "Configuration file (providers and base URLs; keys always come from the environment).")
    var config: String?

    @Flag(name: .customLong("no-cache"), help: "Do not answer from other surveys' stored answers.")
    var noCache = false

    @Flag(help: "No progress on standard error.")
    var quiet = false

    @Flag(help: "Go on even though a process on another machine is marked as asking the survey (it has died).")
    var force = false

    @Flag(help: "Queue what is missing for `converge worker` processes (PostgreSQL) and follow them, as --queue of ask.")
    var queue = false

    @OptionGroup var matching: SimilarityOptions

    @OptionGroup var judging: JudgeOptions

    func validate() throws {
        do {
            try SurveyPlan.validate(concurrency: concurrency, timeoutSeconds: timeout)
        } catch {
            throw error.commandLineError
        }
    }

    /// Runs every request of `loaded` that has no stored answer, then stores the analysis and writes the report.
    func run(_ loaded: SurveyArchive.Loaded, store: any SurveyStore, report: ReportOptions) async throws {
        try Self.checkAskable(loaded)
        let configuration = try ConvergeConfig.load(explicitPath: config)
        // Before any request (a damaged model fails here); without --similarity, the survey's own matching.
        let similarity = try matching.model(stored: loaded.spec.similarity)
        // `--judge` names another judge for this run; without it, the survey's own (if it has one).
        let judge = judging.spec == nil ? nil : try judging.judge(config: config)
        let plan: SurveyPlan
        do {
            plan = try SurveyPlan(resuming: loaded.spec, survey: loaded.survey,
                                  directory: ProviderDirectory(config: configuration), concurrency: concurrency,
                                  timeoutSeconds: timeout, maxAttempts: configuration.maxAttempts)
        } catch {
            throw error.commandLineError
        }
        let runner = try plan.runner()
        let id = loaded.record.id
        try Self.checkNobodyElseAsks(loaded.record, force: force)
        try await checkQueue(store, surveyIDs: [id])
        guard try await store.claim(surveyID: id, owner: SurveyOwner.current, expected: loaded.record.owner) else {
            throw InputError(field: "survey \(id)", "another converge has just started asking it")
        }
        try await store.setStatus(surveyID: id, .running)
        let journal = StoreJournal(store: store, surveyID: id, existing: loaded.requests, useCache: !noCache)
        FileHandle.standardError.write(Data("converge: survey \(id) (\(store.location))\n".utf8))
        var execution = SurveyExecution(runner: runner, survey: plan.survey, rubric: plan.rubric,
                                        analyzer: Analyzer(similarity: similarity), report: report, quiet: quiet,
                                        stored: (SurveyArchive(store: store), id, journal))
        execution.judge = judge ?? judging.tuned(plan.judge)
        if queue { execution.queued = (try workQueue(store), QueueFollower.jobs(surveyID: id, plan: plan, useCache: !noCache)) }
        try await execution.run()
    }

    /// With `--queue`, that the store has a work queue; without it, that none of these surveys has threads queued
    /// for `converge worker` that are not done (asking them here too would ask them twice).
    /// - Throws: ``StoreError/queueNeedsPostgres(location:)`` or `InputError` naming the survey (exit 2).
    func checkQueue(_ store: any SurveyStore, surveyIDs: [String]) async throws {
        if queue {
            _ = try workQueue(store)
            return
        }
        guard let work = try? workQueue(store) else { return }
        if let busy = try await work.jobs(surveyIDs: surveyIDs).first(where: { $0.state != .done }) {
            throw InputError(field: "survey \(busy.job.surveyID)",
                             "has threads queued for `converge worker`; add --queue to follow them (or wait for the workers)")
        }
    }
}

extension ContinueOptions {
    /// Refuses a survey imported from answer folders (`batch --from-folders` stores its answers under
    /// `imported/...` models): there is no model to ask.
    static func checkAskable(_ loaded: SurveyArchive.Loaded) throws {
        if !loaded.spec.panel.isEmpty, loaded.spec.panel.allSatisfy({ $0.model.hasPrefix("imported/") }) {
            throw InputError(field: "survey \(loaded.record.id)", "was imported from answer folders and has no model to ask; "
                             + "`converge reanalyze \(loaded.record.id)` analyses its answers again")
        }
    }

    /// Refuses a survey that a live process is asking: both would send the same requests and pay twice.
    static func checkNobodyElseAsks(_ survey: StoredSurvey, force: Bool) throws {
        switch SurveyOwner.standing(of: survey.owner) {
        case .free:
            return
        case .alive(let pid):
            throw InputError(field: "survey \(survey.id)",
                             "is being asked by process \(pid) on this machine; wait for it to end, or stop it first")
        case .elsewhere(let host, let pid):
            if force { return }
            throw InputError(field: "survey \(survey.id)",
                             "is being asked by process \(pid) on \(host); if that process is gone, add --force")
        }
    }
}

/// `converge surveys resume ID`: finish a survey that was interrupted or killed.
struct SurveysResume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Finish a stored survey: send only the requests without a stored answer, then report.",
        discussion: """
            Answers already stored are used as they are and never asked again; pending requests (sent but \
            not answered when the survey stopped) and failed ones are sent again. Keys come from the \
            environment, as for ask. Exit status as ask.
            """
    )

    @Argument(help: "Survey id (or a unique prefix).")
    var id: String

    @OptionGroup var continuing: ContinueOptions
    @OptionGroup var storage: StoreOptions
    @OptionGroup var report: ReportOptions

    func run() async throws {
        try report.preflight()
        try await storage.withStore { store in
            let loaded = try await SurveyArchive(store: store).load(id)
            try await continuing.run(loaded, store: store, report: report)
        }
    }
}
