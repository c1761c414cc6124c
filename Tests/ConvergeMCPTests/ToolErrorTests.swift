import ConvergeCore
import ConvergeProviders
import ConvergeRunner
import MCP
import Testing
@testable import ConvergeMCP

/// The tools' words for what is wrong: `SurveyPlanError` mapped once, and arguments read by name and type.
@Suite struct ToolErrorTests {
    @Test func everySurveyPlanErrorNamesTheToolsArgument() {
        let cases: [(SurveyPlanError, String, String)] = [
            (.outOfRange(.samples), "samples", "must be at least 1"),
            (.outOfRange(.concurrency), "concurrency", "must be at least 1"),
            (.outOfRange(.timeout), "timeout", "must be a positive number of seconds, \(RequestLimits.maxTimeoutInWords)"),
            (.outOfRange(.maxTokens), "max_tokens", "must be at least 1"),
            (.outOfRange(.temperature), "temperature", "must be a number \(RequestLimits.temperatureInWords)"),
            (.outOfRange(.panelistTemperature(2)), "models[2]", "`temperature` must be a number"),
            (.blankPrompt, "prompt", "the prompt is empty"),
            (.blankFollowUp(1), "follow_ups[1]", "a follow-up is empty"),
            (.emptyPanel, "models", "the panel is empty"),
            (.provider(.missingAPIKey(provider: "anthropic", variable: "ANTHROPIC_API_KEY"), panelIndex: 1), "models[1]",
             "ANTHROPIC_API_KEY"),
            (.provider(.unknownProvider("nope", known: ["openai"]), panelIndex: nil), "panel", "nope"),
            (.judge(.missingAPIKey(provider: "gemini", variable: "GEMINI_API_KEY")), "judge", "GEMINI_API_KEY"),
        ]
        for (error, field, words) in cases {
            let mapped = error.toolError()
            #expect(mapped.field == field, "\(error)")
            #expect(mapped.message.contains(words), "\(error): \(mapped.message)")
        }
        // A panel from converge.yaml: its entries are named by the argument they came from.
        #expect(SurveyPlanError.provider(.unknownProvider("x", known: []), panelIndex: 0)
            .toolError { $0 < 2 ? "panel" : "models[\($0 - 2)]" }.field == "panel")
        let rubric = InputError(file: "rubric_yaml", line: 3, field: "categories[0].items", "must be a list")
        #expect(SurveyPlanError.rubric(rubric).toolError() == rubric)
    }

    @Test func argumentsAreReadByNameAndType() throws {
        let args = try ToolArguments(["n": 3, "x": 2.5, "whole": 4.0, "s": "text", "b": true, "list": ["a", 1], "none": nil],
                                     allowed: ["n", "x", "whole", "s", "b", "list", "none", "absent"])
        #expect(try args.int("n") == 3 && args.int("whole") == 4 && args.double("n") == 3)
        #expect(try args.int("absent") == nil && args.string("none") == nil)
        #expect(throws: InputError(field: "x", "must be an integer, not a number")) { try args.int("x") }
        #expect(throws: InputError(field: "s", "must be true or false, not a string")) { try args.bool("s") }
        #expect(throws: InputError(field: "list[1]", "must be a string, not a number")) { try args.strings("list") }
        #expect(throws: InputError(field: "s", "must be json, md, not `text`")) { try args.oneOf("s", ["json", "md"]) }
        #expect(throws: InputError(field: "absent", "is required")) { try args.requiredString("absent") }
        #expect(throws: InputError(field: "extra", "unknown argument (known: a)")) {
            try ToolArguments(["extra": 1], allowed: ["a"])
        }
    }

    @Test func reportURIsParseOnlyTheirTwoForms() {
        #expect(ReportResources.parse("converge://surveys/abc123/report.json")?.0 == "abc123")
        #expect(ReportResources.parse("converge://surveys/abc123/report.md")?.1 == .md)
        for bad in ["converge://surveys//report.json", "converge://surveys/a/b/report.json", "converge://surveys/a/report.csv",
                    "file:///etc/passwd", "converge://surveys/a"] {
            #expect(ReportResources.parse(bad) == nil, "\(bad)")
        }
    }
}
