import MCP

/// Sends `notifications/progress` for one request when the client gave a progress token (none otherwise, as
/// the protocol asks). A notification that cannot be sent (the client went away) is dropped: the work goes on
/// and its result stays in the store.
struct ProgressReporter: Sendable {
    weak var server: Server?
    let token: ProgressToken?

    func report(_ progress: Int, of total: Int?, _ message: String) async {
        await report(Double(progress), of: total, message)
    }

    func report(_ progress: Double, of total: Int?, _ message: String) async {
        guard let token, let server else { return }
        let parameters = ProgressNotification.Parameters(progressToken: token, progress: progress,
                                                         total: total.map(Double.init), message: message)
        try? await server.notify(ProgressNotification.message(parameters))
    }
}
