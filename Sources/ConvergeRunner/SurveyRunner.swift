import ConvergeCore
import ConvergeProviders
import Foundation
import Logging

/// Runs a survey against a live panel.
///
/// - Fan-out: one conversation thread per panelist x sample; each thread asks its turns in order, sending
///   its own earlier turns (user messages and its own answers) with every follow-up. Threads run
///   concurrently and independently: a slow or failing thread never holds up another.
/// - Limits: each attempt first takes a permit of its provider's semaphore, then one of the global
///   semaphore (so a thread waiting for a busy provider never holds a global slot); both are released when
///   the attempt ends, so backoff sleeps hold nothing.
/// - Retries: ``RetryPolicy`` (full-jitter backoff; Retry-After honoured up to a cap).
/// - Timeout: ``RunnerOptions/timeout`` per attempt, enforced by the provider and, as a backstop, by the
///   runner (the timeout plus 0.5 s).
/// - Cancellation: cancelling the task that runs ``run(_:events:)`` (or the task returned by ``start(_:)``)
///   cancels every in-flight request, wait and sleep; the result comes back at once with the unfinished
///   requests failed as `cancelled` and ``SurveyResult/cancelled`` set.
/// - A thread whose turn fails asks no more turns: its later turns are failures ("not asked: ...").
public struct SurveyRunner: Sendable {
    public let members: [SurveyMember]
    public let options: RunnerOptions
    let logger: Logger

    /// - Throws: `InputError` when there are no members, two members share a panelist id, or `samples`,
    ///   `concurrency` or `perProviderConcurrency` is below 1.
    public init(members: [SurveyMember], options: RunnerOptions = RunnerOptions(),
                logger: Logger = Logger(label: "converge.runner")) throws {
        guard !members.isEmpty else { throw InputError("the panel is empty") }
        var seen = Set<String>()
        for member in members where !seen.insert(member.panelist.id).inserted {
            throw InputError(field: "panel", "two panelists have the id `\(member.panelist.id)`")
        }
        guard options.samples >= 1 else { throw InputError(field: "samples", "samples must be at least 1") }
        guard options.concurrency >= 1 else { throw InputError(field: "concurrency", "concurrency must be at least 1") }
        guard options.perProviderConcurrency >= 1 else {
            throw InputError(field: "concurrency", "the per-provider concurrency must be at least 1")
        }
        self.members = members
        self.options = options
        self.logger = logger
    }

    /// Members for panelists whose `model` is a spec, resolved through `directory`, all before any request:
    /// a missing key fails here, naming its variable.
    ///
    /// - Throws: ``ProviderError/invalidModelSpec(_:reason:)`` (also for a panelist without a model),
    ///   ``ProviderError/unknownProvider(_:known:)``, ``ProviderError/missingAPIKey(provider:variable:)``,
    ///   ``ProviderError/invalidConfiguration(_:)``.
    public static func members(for panelists: [Panelist], directory: ProviderDirectory,
                               transport: HTTPTransport = HTTPTransport()) throws(ProviderError) -> [SurveyMember] {
        var result: [SurveyMember] = []
        for panelist in panelists {
            guard let text = panelist.model else {
                throw .invalidModelSpec(panelist.id, reason: "panelist `\(panelist.id)` has no model spec")
            }
            let spec = try ModelSpec(parsing: text)
            let endpoint = try directory.endpoint(for: spec.provider)
            result.append(SurveyMember(panelist: panelist,
                                       provider: ProviderFactory.make(endpoint: endpoint, transport: transport),
                                       model: spec.model, providerLimit: endpoint.maxConcurrency))
        }
        return result
    }

    /// Starts the survey in a new task.
    ///
    /// - Returns: the progress events (the stream finishes when the survey does) and the task producing the
    ///   result; cancel the task to stop the survey (Ctrl-C).
    public func start(_ survey: Survey, journal: (any SurveyJournal)? = nil)
        -> (events: AsyncStream<SurveyEvent>, result: Task<SurveyResult, Never>) {
        let (stream, continuation) = AsyncStream.makeStream(of: SurveyEvent.self, bufferingPolicy: .unbounded)
        let task = Task { await self.run(survey, events: continuation, journal: journal) }
        return (stream, task)
    }

    /// Runs the survey to the end (or until the calling task is cancelled).
    ///
    /// - Parameters:
    ///   - events: receives progress; finished when the run ends.
    ///   - journal: records every request before it is sent and every outcome before its event, and supplies
    ///     answers that need not be asked again (a resumed survey's stored answers, the response cache). A
    ///     reused answer counts as answered with 0 attempts.
    /// - Returns: per turn, per panelist, per sample an answer or a failure with its cause. Never throws:
    ///   every failure, cancellation included, is recorded in the result.
    public func run(_ survey: Survey, events: AsyncStream<SurveyEvent>.Continuation? = nil,
                    journal: (any SurveyJournal)? = nil) async -> SurveyResult {
        defer { events?.finish() }
        let global = AsyncSemaphore(permits: options.concurrency)
        var providerSemaphores: [String: AsyncSemaphore] = [:]
        var caps: [String: Int] = [:]
        for member in members {
            let name = member.provider.name
            let cap = min(options.perProviderConcurrency, member.providerLimit ?? Int.max)
            caps[name] = min(caps[name] ?? Int.max, cap)
        }
        for (name, cap) in caps { providerSemaphores[name] = AsyncSemaphore(permits: cap) }

        let samples = options.samples
        var threads: [[SampleOutcome]] = Array(repeating: [], count: members.count * samples)
        await withTaskGroup(of: (Int, [SampleOutcome]).self) { group in
            for (memberIndex, member) in members.enumerated() {
                for sample in 0..<samples {
                    let slot = memberIndex * samples + sample
                    let providerSemaphore = providerSemaphores[member.provider.name]!
                    group.addTask {
                        let outcomes = await self.runThread(member: member, sample: sample, survey: survey,
                                                            global: global, providerSemaphore: providerSemaphore,
                                                            events: events, journal: journal)
                        return (slot, outcomes)
                    }
                }
            }
            for await (slot, outcomes) in group { threads[slot] = outcomes }
        }

        let turns = survey.turns.enumerated().map { turnIndex, prompt in
            TurnResult(index: turnIndex, prompt: prompt, panelists: members.enumerated().map { memberIndex, member in
                PanelistTurnResult(panelist: member.panelist, samples: (0..<samples).map { sample in
                    threads[memberIndex * samples + sample][turnIndex]
                })
            })
        }
        return SurveyResult(survey: survey, panelists: members.map(\.panelist), samples: samples, turns: turns,
                            cancelled: Task.isCancelled)
    }

    /// One conversation thread: the turns of one panelist's sample, in order.
    func runThread(member: SurveyMember, sample: Int, survey: Survey, global: AsyncSemaphore,
                   providerSemaphore: AsyncSemaphore, events: AsyncStream<SurveyEvent>.Continuation?,
                   journal: (any SurveyJournal)? = nil) async -> [SampleOutcome] {
        var messages: [ChatMessage] = (member.system ?? survey.system).map { [.system($0)] } ?? []
        var parameters = options.parameters
        if let temperature = member.temperature { parameters.temperature = temperature }
        var outcomes: [SampleOutcome] = []
        for (turn, prompt) in survey.turns.enumerated() {
            let key = RequestKey(turn: turn, panelistID: member.panelist.id, sample: sample)
            if let previous = outcomes.last?.failure {
                let cause = previous.error == .cancelled || previous.cause == "cancelled"
                    ? "cancelled" : "not asked: turn \(turn) failed (\(previous.cause))"
                let failure = SampleFailure(cause: cause, error: nil, attempts: 0)
                events?.yield(.failed(key, cause: cause))
                outcomes.append(.failed(failure))
                continue
            }
            messages.append(.user(prompt))
            let request = ChatRequest(model: member.model, messages: messages, parameters: parameters)
            let outcome = await ask(key: key, member: member, request: request, global: global,
                                    providerSemaphore: providerSemaphore, events: events, journal: journal)
            if let response = outcome.response { messages.append(.assistant(response.text)) }
            outcomes.append(outcome)
        }
        return outcomes
    }

    /// One request with its retries.
    func ask(key: RequestKey, member: SurveyMember, request: ChatRequest, global: AsyncSemaphore,
             providerSemaphore: AsyncSemaphore, events: AsyncStream<SurveyEvent>.Continuation?,
             journal: (any SurveyJournal)? = nil) async -> SampleOutcome {
        if let journal {
            if let stored = await journal.reuse(key, member: member, request: request) {
                events?.yield(.answered(key, stored))
                return .answered(stored, attempts: 0)
            }
            await journal.willSend(key, member: member, request: request)
        }
        var generator = SystemRandomNumberGenerator()
        var attempt = 0
        var lastError: ProviderError?
        func fail(_ cause: String, _ error: ProviderError?) async -> SampleOutcome {
            let failure = SampleFailure(cause: cause, error: error, attempts: attempt)
            await journal?.failed(key, member: member, request: request, failure: failure)
            events?.yield(.failed(key, cause: cause))
            logger.debug("failed", metadata: ["request": "\(key)", "cause": "\(cause)"])
            return .failed(failure)
        }
        while true {
            do {
                try await providerSemaphore.acquire()
            } catch {
                return await fail("cancelled", lastError ?? .cancelled)
            }
            do {
                try await global.acquire()
            } catch {
                await providerSemaphore.release()
                return await fail("cancelled", lastError ?? .cancelled)
            }
            attempt += 1
            events?.yield(.started(key, attempt: attempt))
            let result = await Self.complete(request, with: member.provider, timeout: options.timeout)
            await global.release()
            await providerSemaphore.release()

            let error: ProviderError
            switch result {
            case .success(let response):
                await journal?.answered(key, member: member, request: request, response: response, attempts: attempt)
                events?.yield(.answered(key, response))
                return .answered(response, attempts: attempt)
            case .failure(let failure):
                error = failure
            }
            lastError = error
            if error == .cancelled || Task.isCancelled { return await fail("cancelled", .cancelled) }
            switch options.retry.decide(after: error, attempt: attempt, using: &generator) {
            case .retry(let delay):
                events?.yield(.retrying(key, attempt: attempt, delay: delay, reason: error.description))
                logger.debug("retrying", metadata: ["request": "\(key)", "attempt": "\(attempt)",
                                                    "delay_s": "\(delay)", "reason": "\(error)"])
                do {
                    try await Task.sleep(for: .milliseconds(Int((delay * 1000).rounded(.up))))
                } catch {
                    return await fail("cancelled", .cancelled)
                }
            case .giveUp(let reason):
                var cause = error.description
                if let reason { cause += " (\(reason))" }
                return await fail(cause, error)
            }
        }
    }

    /// Calls the provider with the timeout enforced here too (timeout + 0.5 s), so a client that ignores
    /// its timeout cannot hang the survey. Non-``ProviderError`` errors become `.connection`.
    static func complete(_ request: ChatRequest, with provider: any LLMProvider,
                         timeout: Duration) async -> Result<ChatResponse, ProviderError> {
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        return await withTaskGroup(of: Result<ChatResponse, ProviderError>?.self) { group in
            group.addTask {
                do {
                    return .success(try await provider.complete(request, timeout: timeout))
                } catch let error as ProviderError {
                    return .failure(error)
                } catch is CancellationError {
                    return .failure(.cancelled)
                } catch {
                    return .failure(.connection(String(describing: type(of: error))))
                }
            }
            group.addTask {
                do {
                    try await Task.sleep(for: timeout + .milliseconds(500))
                } catch {
                    return nil // cancelled: the request finished first, or the survey was cancelled
                }
                return .failure(.timeout(seconds: seconds))
            }
            var outcome: Result<ChatResponse, ProviderError> = .failure(.cancelled)
            for await result in group {
                if let result {
                    outcome = result
                    break
                }
                if Task.isCancelled { break }
            }
            group.cancelAll()
            return outcome
        }
    }
}
