import ConvergeAnalysis
import ConvergeCore
import ConvergeProviders
import ConvergeRunner
import ConvergeStore
import MCP

extension ConvergeTools {
    /// `ask`: plans the survey with `SurveyPlan` (every provider and key checked before anything is stored),
    /// stores it, then runs it (``SurveyRun``), or with `wait: false` answers its id at once and runs it on.
    func ask(_ arguments: [String: Value]?, progress: ProgressReporter) async throws -> CallTool.Result {
        let args = try ToolArguments(arguments, allowed: [
            "prompt", "models", "panel", "follow_ups", "system", "samples", "temperature", "max_tokens", "timeout",
            "concurrency", "rubric", "rubric_yaml", "judge", "blind", "no_cache", "wait", "format",
        ])
        let prompt = try args.requiredString("prompt")
        let models = try args.strings("models")
        let panelName = try args.string("panel")
        if models.isEmpty && panelName == nil {
            throw InputError(field: "models", "give at least one model spec in `models`, or a named `panel`")
        }
        var entries: [PanelEntry] = []
        if let panelName {
            do {
                entries = try context.config.panel(named: panelName)
            } catch let error as InputError {
                throw InputError(field: "panel", error.message)
            }
        }
        let fromPanel = entries.count
        for (n, spec) in models.enumerated() {
            do {
                entries.append(PanelEntry(spec: try ModelSpec(parsing: spec)))
            } catch {
                throw InputError(field: "models[\(n)]", error.description)
            }
        }
        let rubric = try rubricSource(args)
        let blind = try args.bool("blind")
        let request = SurveyPlan.Request(
            prompt: prompt, followUps: try args.strings("follow_ups"), system: try args.string("system"), panel: entries,
            samples: try args.int("samples") ?? 1, temperature: try args.double("temperature"),
            maxTokens: try args.int("max_tokens"), timeoutSeconds: try args.double("timeout"),
            concurrency: try args.int("concurrency"), rubric: rubric, blind: blind, judge: try args.string("judge"))
        let noCache = try args.bool("no_cache") ?? false
        let wait = try args.bool("wait") ?? true
        let markdown = try args.oneOf("format", ["json", "md"]) == "md"
        let plan: SurveyPlan
        do {
            plan = try SurveyPlan(request, directory: context.directory, config: context.config)
        } catch {
            throw error.toolError { $0 < fromPanel ? "panel" : "models[\($0 - fromPanel)]" }
        }
        let analyzer = Analyzer(similarity: try context.similarity(nil))
        let store = try store()
        let archive = SurveyArchive(store: store)
        let id = try await archive.create(plan.survey, spec: plan.spec)
        _ = try await store.claim(surveyID: id, owner: SurveyOwner.current, expected: nil)
        let run = SurveyRun(plan: plan, archive: archive, id: id,
                            journal: StoreJournal(store: store, surveyID: id, useCache: !noCache),
                            analyzer: analyzer, blind: blind ?? false, markdown: markdown)
        return try await start(run, wait: wait, progress: progress)
    }

    /// `follow_up`: one more turn for every thread of a stored survey; earlier turns are not asked again.
    func followUp(_ arguments: [String: Value]?, progress: ProgressReporter) async throws -> CallTool.Result {
        let args = try ToolArguments(arguments, allowed: Self.continuing.union(["prompt"]))
        let prompt = try args.requiredString("prompt")
        if prompt.trimmingWhitespace.isEmpty { throw InputError(field: "prompt", "the follow-up is empty") }
        return try await continueSurvey(args, turn: prompt, progress: progress)
    }

    /// `survey_resume`: the requests of a stored survey that have no answer (interrupted, cancelled, failed),
    /// as `converge surveys resume` sends them; stored answers are not asked again.
    func surveyResume(_ arguments: [String: Value]?, progress: ProgressReporter) async throws -> CallTool.Result {
        try await continueSurvey(ToolArguments(arguments, allowed: Self.continuing), turn: nil, progress: progress)
    }

    static let continuing: Set<String> = ["id", "timeout", "concurrency", "no_cache", "wait", "blind", "format"]

    /// Plans the rest of a stored survey (`SurveyPlan(resuming:)`), with one more turn when `turn` is given, and
    /// runs it: only the requests without a stored answer are sent.
    private func continueSurvey(_ args: ToolArguments, turn: String?, progress: ProgressReporter) async throws
        -> CallTool.Result {
        let id = try args.requiredString("id")
        let concurrency = try args.int("concurrency"), timeout = try args.double("timeout")
        let noCache = try args.bool("no_cache") ?? false
        let wait = try args.bool("wait") ?? true
        let markdown = try args.oneOf("format", ["json", "md"]) == "md"
        let store = try store()
        let archive = SurveyArchive(store: store)
        let loaded = try await archive.load(id)
        try Self.checkNobodyElseAsks(loaded.record)
        var survey = loaded.survey
        if let turn { survey.turns.append(turn) }
        let plan: SurveyPlan
        do {
            // Planned before the turn is stored: a provider now unknown or a key now missing changes nothing.
            plan = try SurveyPlan(resuming: loaded.spec, survey: survey, directory: context.directory,
                                  concurrency: concurrency, timeoutSeconds: timeout, maxAttempts: context.config.maxAttempts)
        } catch {
            throw error.toolError { _ in "panel" }
        }
        let analyzer = Analyzer(similarity: try context.similarity(nil))
        let surveyID = loaded.record.id
        guard try await store.claim(surveyID: surveyID, owner: SurveyOwner.current, expected: loaded.record.owner) else {
            throw InputError(field: "id", "survey \(surveyID): another converge has just started asking it")
        }
        if let turn { _ = try await store.appendTurn(surveyID: surveyID, prompt: turn) }
        try await store.setStatus(surveyID: surveyID, .running)
        let journal = StoreJournal(store: store, surveyID: surveyID, existing: loaded.requests, useCache: !noCache)
        let blind = try args.bool("blind") ?? loaded.spec.blind ?? false
        let run = SurveyRun(plan: plan, archive: archive, id: surveyID, journal: journal, analyzer: analyzer,
                            blind: blind, markdown: markdown)
        return try await start(run, wait: wait, progress: progress)
    }

    /// Runs `run` now, or (`wait: false`) in the background, answering with the survey id at once.
    private func start(_ run: SurveyRun, wait: Bool, progress: ProgressReporter) async throws -> CallTool.Result {
        if wait {
            // Registered while it runs: a server that stops meanwhile (end of input, SIGTERM) leaves it interrupted.
            await tasks.begin(run.id)
            do {
                let result = try await run.run(progress: progress)
                await tasks.end(run.id)
                return result
            } catch {
                await tasks.end(run.id)
                throw error
            }
        }
        await tasks.start(run)
        return CallTool.Result(
            content: [.plain("Survey \(run.id) is running; `survey_get` with id \(run.id) gives its report when it is done.")],
            structuredContent: .object(["surveyId": .string(run.id), "status": "running"]))
    }

    /// Refuses a survey that a live process is asking: both would send the same requests and pay twice.
    static func checkNobodyElseAsks(_ survey: StoredSurvey) throws {
        switch SurveyOwner.standing(of: survey.owner) {
        case .free:
            return
        case .alive(let pid):
            throw InputError(field: "id", "survey \(survey.id) is being asked by process \(pid) on this machine; wait for it to end")
        case .elsewhere(let host, let pid):
            throw InputError(field: "id", "survey \(survey.id) is being asked by process \(pid) on \(host); "
                             + "if that process is gone, `converge surveys resume --force \(survey.id)` takes it over")
        }
    }
}
