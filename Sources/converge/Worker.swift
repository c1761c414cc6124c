import ArgumentParser
import ConvergeCore
import ConvergeProviders
import ConvergeRunner
import ConvergeStore
import Foundation
import Logging
import ServiceLifecycle

/// `converge worker --db postgres://...`: asks the threads that `ask --queue` and `batch --queue` put in the
/// PostgreSQL work queue, until SIGTERM or SIGINT.
struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Take queued panelist requests from PostgreSQL and ask them (run as many as you like, anywhere).",
        discussion: """
            Workers share the queue in the database given by --db (PostgreSQL only; SQLite is refused with exit \
            status 2: its surveys are asked in-process). Each worker leases one thread (a panelist's sample of a \
            survey) per slot with a row lock, renews its leases every third of --lease, and writes each answer \
            only while it holds the lease: a worker that dies loses its jobs when their leases expire, and another \
            takes them. A provider's concurrency limit (--concurrency of the survey, the config file's \
            max_concurrency) is counted over every worker's leases.

            Keys come from this worker's environment (OPENAI_API_KEY, ...), base URLs from it and --config. \
            SIGTERM or SIGINT stops taking jobs, cancels the requests in flight and gives their leases back (exit 0).
            """
    )

    @OptionGroup var storage: StoreOptions

    @Option(help: "Configuration file (providers, base URLs, max_attempts).")
    var config: String?

    @Option(help: "Most threads this worker asks at once.")
    var slots = 16

    @Option(help: "Seconds a lease lasts without a heartbeat (a dead worker's jobs are taken again after this).")
    var lease = 30.0

    @Option(name: .customLong("log-level"), help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel = "notice"

    func validate() throws {
        guard slots >= 1 else { throw ValidationError("--slots must be at least 1") }
        guard lease.isFinite, lease >= 1, lease <= 3600 else { throw ValidationError("--lease must be 1 to 3600 seconds") }
        guard Logger.Level(rawValue: logLevel.lowercased()) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
    }

    func run() async throws {
        let url = try storage.location()
        if case .sqlite = url { throw StoreError.queueNeedsPostgres(location: url.description) }
        let settings = try ConvergeConfig.load(explicitPath: config)
        let level = Logger.Level(rawValue: logLevel.lowercased()) ?? .notice
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "converge.worker")
        logger.logLevel = level
        let store = try await openStore(url)
        do {
            let options = WorkerOptions(slots: slots, lease: .milliseconds(Int(lease * 1000)), maxAttempts: settings.maxAttempts)
            let worker = try QueueWorker(store: store, directory: ProviderDirectory(config: settings), options: options,
                                         logger: logger)
            FileHandle.standardError.write(Data("converge: worker \(worker.id) taking requests from \(store.location)\n".utf8))
            let group = ServiceGroup(configuration: .init(services: [.init(service: worker)],
                                                          gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
            let counts = worker.counts
            FileHandle.standardError.write(Data("converge: worker \(worker.id) stopped: \(counts.completed) jobs done\n".utf8))
        } catch {
            await store.close()
            throw error
        }
        await store.close()
    }
}
