/// What a model costs, in US dollars per million tokens (converge.yaml `prices`), for the batch report.
public struct ModelPrice: Sendable, Hashable {
    /// Dollars per million input (prompt) tokens, at least 0.
    public var inputPerMillion: Double
    /// Dollars per million output (answer) tokens, at least 0.
    public var outputPerMillion: Double

    public init(inputPerMillion: Double, outputPerMillion: Double) {
        self.inputPerMillion = inputPerMillion
        self.outputPerMillion = outputPerMillion
    }
}
