import ArgumentParser
import ConvergeCore
import ConvergeProviders
import ConvergeRunner
import ConvergeStore
import ConvergeTestSupport
import Foundation

/// `converge-eval bench fanout`: how close a survey's wall time comes to the physical limit.
///
/// A scripted OpenAI-compatible server on loopback answers every request after `--latency`; the survey runner
/// asks P panelists x S samples through real HTTP. The physical limit is latency x ceil(requests /
/// concurrency): no runner can be faster. Printed per panel size: wall time, the ratio to the limit, the
/// per-request overhead ((wall - limit) / requests) and peak RSS. A one-request survey measured first, in the
/// same run, is the baseline of fixed costs. With `--db URL` every panel size runs twice, without and with the
/// store journalling each request (pending before sending, the answer on arrival), so the store's cost shows as
/// the difference of two ratios measured in the same run.
struct BenchFanout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fanout",
                                                    abstract: "Time a survey's fan-out against the physical limit.")

    @Option(help: "Panel sizes to run, comma-separated.")
    var panelists = "3,10,50"

    @OptionGroup var latency: LatencyOption

    @Option(help: "Samples per panelist.")
    var samples = 1

    @Option(help: "Most requests in flight (default: every request at once).")
    var concurrency: Int?

    @Option(help: "Also run every size with the store journalling to this database (sqlite:PATH or postgres://...).")
    var db: String?

    func run() async throws {
        let seconds = try latency.seconds()
        let sizes = try panelists.split(separator: ",").map { text -> Int in
            guard let n = Int(String(text).trimmingWhitespace), n > 0 else {
                throw ValidationError("--panelists takes positive whole numbers, comma-separated")
            }
            return n
        }
        let server = try await ProviderTestServer.start()
        print("bench fanout: latency \(seconds) s, samples \(samples), loopback server at \(server.baseURL)")
        print("machine: \(ProcessInfo.processInfo.activeProcessorCount) cores")
        let baseline = try await survey(server: server, size: 1, samples: 1, latency: seconds, concurrency: 1)
        print(String(format: "baseline: one request %.3f s (latency %.3f s, fixed cost %.1f ms)",
                     baseline.wall, seconds, (baseline.wall - seconds) * 1000))
        var store: (any SurveyStore)?
        if let db { store = try await openStore(try DatabaseURL(parsing: db)) }
        print("panelists  requests  concurrency  store   wall       limit      ratio   overhead/request  answered")
        for size in sizes {
            let requests = size * samples
            let cap = concurrency ?? requests
            for journalled in store == nil ? [nil] : [nil, store] {
                let result = try await survey(server: server, size: size, samples: samples, latency: seconds,
                                              concurrency: cap, store: journalled)
                let limit = seconds * (Double(requests) / Double(cap)).rounded(.up)
                let label = journalled == nil ? "none  " : "stored"
                let measures = String(format: "  %7.3f s  %7.3f s  %5.3f   %10.2f ms       %d/%d", result.wall, limit,
                                      result.wall / limit, (result.wall - limit) / Double(requests) * 1000,
                                      result.answered, requests)
                print(String(format: "%9d  %8d  %11d  ", size, requests, cap) + label + measures)
            }
        }
        await store?.close()
        print(String(format: "peak RSS: %.1f MiB", Measure.peakRSSMiB()))
        try await server.shutdown()
    }

    func survey(server: ProviderTestServer, size: Int, samples: Int, latency: Double, concurrency: Int,
                store: (any SurveyStore)? = nil) async throws -> (wall: Double, answered: Int) {
        for i in 0..<size { server.script("m\(i)", [.answer("Answer \(i): caching helps.", delay: latency)]) }
        let directory = ProviderDirectory(environment: ["OPENAI_API_KEY": "bench-key",
                                                        "OPENAI_BASE_URL": server.baseURL + "/v1"])
        let panel = (0..<size).map { Panelist(id: "p\($0)", model: "openai/m\($0)") }
        let members = try SurveyRunner.members(for: panel, directory: directory)
        let runner = try SurveyRunner(members: members, options: RunnerOptions(
            samples: samples, concurrency: concurrency, perProviderConcurrency: concurrency,
            timeout: .seconds(latency + 60), retry: .never))
        let survey = Survey(prompt: "How do I speed up a web service?")
        var journal: StoreJournal?
        if let store {
            let spec = SurveySpec(members: members, survey: survey, options: runner.options, rubric: nil)
            let id = try await SurveyArchive(store: store).create(survey, spec: spec)
            journal = StoreJournal(store: store, surveyID: id, useCache: false)
        }
        let start = ContinuousClock.now
        let result = await runner.run(survey, journal: journal)
        let elapsed = ContinuousClock.now - start
        return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18, result.answerCount)
    }

    /// `1`, `1.5`, `1s`, `250ms` → seconds.
    static func parseDuration(_ text: String) throws -> Double {
        let t = text.trimmingWhitespace.lowercased()
        let value: Double?
        if t.hasSuffix("ms") { value = Double(t.dropLast(2)).map { $0 / 1000 } }
        else if t.hasSuffix("s") { value = Double(t.dropLast()) }
        else { value = Double(t) }
        guard let value, value >= 0 else { throw ValidationError("--latency: `\(text)` is not a duration like 1s or 250ms") }
        return value
    }
}
