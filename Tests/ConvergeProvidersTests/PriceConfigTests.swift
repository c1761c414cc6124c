import ConvergeCore
import ConvergeProviders
import Testing

/// converge.yaml `prices`: dollars per million tokens by model spec, for the batch report's cost.
@Suite struct PriceConfigTests {
    @Test func readsPricesByModelSpec() throws {
        let config = try ConvergeConfig(yaml: """
            prices:
              openai/gpt-4o: {input: 2.5, output: 10}
              anthropic/claude-sonnet-4-5:
                input: 3
                output: 15
            """)
        #expect(config.prices["openai/gpt-4o"] == ModelPrice(inputPerMillion: 2.5, outputPerMillion: 10))
        #expect(config.prices["anthropic/claude-sonnet-4-5"]?.outputPerMillion == 15)
        #expect(try ConvergeConfig(yaml: "concurrency: 2").prices.isEmpty)
    }

    @Test(arguments: [
        ("prices: [1, 2]", "prices"),
        ("prices:\n  openai/a: 3", "prices.openai/a"),
        ("prices:\n  openai/a: {input: 1}", "prices.openai/a.output"),
        ("prices:\n  openai/a: {input: -1, output: 1}", "prices.openai/a.input"),
        ("prices:\n  openai/a: {input: cheap, output: 1}", "prices.openai/a.input"),
    ])
    func refusesWhatIsNotAPrice(_ yaml: String, _ field: String) {
        do {
            _ = try ConvergeConfig(yaml: yaml, file: "c.yaml")
            Issue.record("accepted \(yaml)")
        } catch let error as InputError {
            #expect(error.field == field && error.file == "c.yaml" && error.line != nil, "\(error)")
        } catch {
            Issue.record("\(error)")
        }
    }
}
