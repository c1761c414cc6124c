import ConvergeCore
import ConvergeProviders
import ConvergeRunner
import Foundation
import Testing

/// The one survey planner every front end uses: its checks, what it resolves, and the options it works out.
@Suite struct SurveyPlanTests {
    /// OpenAI with a key; Anthropic without one.
    static let directory = ProviderDirectory(environment: ["OPENAI_API_KEY": "sk-test"])

    static func request(_ specs: [String] = ["openai/a", "openai/b"]) throws -> SurveyPlan.Request {
        SurveyPlan.Request(prompt: "Cache?", panel: try specs.map { PanelEntry(spec: try ModelSpec(parsing: $0)) })
    }

    static func planError(_ request: SurveyPlan.Request, config: ConvergeConfig = ConvergeConfig())
        -> SurveyPlanError? {
        do {
            _ = try SurveyPlan(request, directory: directory, config: config)
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: [
        (2.5, SurveyPlanError.outOfRange(.temperature)), (-0.1, .outOfRange(.temperature)),
        (Double.nan, .outOfRange(.temperature)),
    ])
    func temperaturesOutsideZeroToTwoAreRefused(_ temperature: Double, _ expected: SurveyPlanError) throws {
        var request = try Self.request()
        request.temperature = temperature
        #expect(Self.planError(request) == expected)
        request.temperature = nil
        request.panel[1].temperature = temperature
        #expect(Self.planError(request) == .outOfRange(.panelistTemperature(1)))
    }

    @Test func theLimitsAreInclusiveAndStatedOnce() throws {
        #expect(RequestLimits.temperature == 0...2)
        #expect(RequestLimits.maxTimeoutSeconds == 86_400)
        #expect(RequestLimits.temperatureInWords == "from 0 to 2")
        #expect(RequestLimits.maxTimeoutInWords == "at most 86400")
        var request = try Self.request()
        request.temperature = 2
        request.timeoutSeconds = 86_400
        #expect(Self.planError(request) == nil)
    }

    @Test func settingsAreCheckedInOrderBeforeAnyProvider() throws {
        var request = try Self.request(["anthropic/claude"])  // no key: never reached
        request.samples = 0
        request.concurrency = 0
        #expect(Self.planError(request) == .outOfRange(.samples))
        request.samples = 1
        #expect(Self.planError(request) == .outOfRange(.concurrency))
        request.concurrency = nil
        for seconds in [0, -1, 86_401, .nan] {
            request.timeoutSeconds = seconds
            #expect(Self.planError(request) == .outOfRange(.timeout), "\(seconds)")
        }
        request.timeoutSeconds = nil
        request.maxTokens = 0
        #expect(Self.planError(request) == .outOfRange(.maxTokens))
        request.maxTokens = nil
        request.prompt = " \n"
        #expect(Self.planError(request) == .blankPrompt)
        request.prompt = "Cache?"
        request.followUps = ["When?", "\t"]
        #expect(Self.planError(request) == .blankFollowUp(1))
        request.followUps = []
        guard case .provider(.missingAPIKey(_, let variable), panelIndex: 0)? = Self.planError(request) else {
            Issue.record("a missing key is a provider error naming its panel entry")
            return
        }
        #expect(variable == "ANTHROPIC_API_KEY")
    }

    @Test func anEmptyPanelAndAnUnknownProviderAreRefused() throws {
        #expect(Self.planError(try Self.request([])) == .emptyPanel)
        guard case .provider(.unknownProvider, panelIndex: 1)? = Self.planError(try Self.request(["openai/a", "nope/b"]))
        else {
            Issue.record("an unknown provider is a provider error naming its panel entry")
            return
        }
    }

    @Test func aRubricThatIsNotOneIsRefusedWithItsLocation() throws {
        var request = try Self.request()
        request.rubric = SurveySpec.RubricSource(file: "rubric.yaml", yaml: "title: T\ncategories: []\n")
        guard case .rubric(let error)? = Self.planError(request) else {
            Issue.record("expected a rubric error")
            return
        }
        #expect(error.file == "rubric.yaml")
        request.rubric = SurveySpec.RubricSource(file: "rubric.yaml", yaml: """
            title: T
            categories:
              - name: C
                items:
                  - {id: measure, text: Measure first}
            """)
        let plan = try SurveyPlan(request, directory: Self.directory)
        #expect(plan.rubric?.title == "T")
        #expect(plan.spec.rubric == request.rubric)
    }

    @Test func flagsWinOverTheConfigFileWhichWinsOverTheDefaults() throws {
        let config = ConvergeConfig(concurrency: 3, timeoutSeconds: 7, maxAttempts: 2)
        var request = try Self.request()
        let fromFile = try SurveyPlan(request, directory: Self.directory, config: config)
        #expect(fromFile.options.concurrency == 3)
        #expect(fromFile.options.perProviderConcurrency == 3)
        #expect(fromFile.options.timeout == .seconds(7))
        #expect(fromFile.options.retry.maxAttempts == 2)
        #expect(fromFile.spec.concurrency == 3)
        #expect(fromFile.spec.timeoutSeconds == 7)

        request.concurrency = 5
        request.timeoutSeconds = 1.5
        request.temperature = 0.3
        request.maxTokens = 64
        request.samples = 2
        request.blind = true
        let fromFlags = try SurveyPlan(request, directory: Self.directory, config: config)
        #expect(fromFlags.options.concurrency == 5)
        #expect(fromFlags.options.perProviderConcurrency == 5)
        #expect(fromFlags.options.timeout == .milliseconds(1500))
        #expect(fromFlags.options.parameters == GenerationParameters(temperature: 0.3, maxTokens: 64))
        #expect(fromFlags.options.samples == 2)
        #expect(fromFlags.spec.blind == true)

        let defaults = try SurveyPlan(try Self.request(), directory: Self.directory)
        #expect(defaults.options.concurrency == RunnerOptions().concurrency)
        #expect(defaults.options.perProviderConcurrency == RunnerOptions().concurrency)
        #expect(defaults.options.timeout == RunnerOptions().timeout)
    }

    @Test func panelEntriesKeepTheirOwnSystemAndTemperatureAndGetUniqueIDs() throws {
        var request = try Self.request(["openai/a", "openai/a"])
        request.panel[0].system = "Be brief."
        request.panel[1].temperature = 0.9
        let plan = try SurveyPlan(request, directory: Self.directory)
        #expect(plan.members.map(\.panelist.id) == ["a", "a-2"])
        #expect(plan.members.map(\.system) == ["Be brief.", nil])
        #expect(plan.members.map(\.temperature) == [nil, 0.9])
        #expect(plan.spec.panel.map(\.model) == ["openai/a", "openai/a"])
        #expect(plan.survey == Survey(prompt: "Cache?"))
    }

    @Test func aStoredSurveyResumesWithItsSettingsAndTheOverridesGiven() throws {
        var request = try Self.request()
        request.concurrency = 2
        request.timeoutSeconds = 30
        let stored = try SurveyPlan(request, directory: Self.directory)
        let resumed = try SurveyPlan(resuming: stored.spec, survey: stored.survey, directory: Self.directory)
        #expect(resumed.options.concurrency == 2)
        #expect(resumed.options.perProviderConcurrency == 2)
        #expect(resumed.options.timeout == .seconds(30))
        #expect(resumed.members.map(\.panelist) == stored.members.map(\.panelist))

        let overridden = try SurveyPlan(resuming: stored.spec, survey: stored.survey, directory: Self.directory,
                                        concurrency: 6, timeoutSeconds: 9, maxAttempts: 4)
        #expect(overridden.options.concurrency == 6)
        #expect(overridden.options.perProviderConcurrency == 6)
        #expect(overridden.options.timeout == .seconds(9))
        #expect(overridden.options.retry.maxAttempts == 4)

        #expect(throws: SurveyPlanError.outOfRange(.timeout)) {
            try SurveyPlan(resuming: stored.spec, survey: stored.survey, directory: Self.directory, timeoutSeconds: 0)
        }
        // Keys are read again: one that is gone now is a provider error for the panel as a whole.
        do {
            _ = try SurveyPlan(resuming: stored.spec, survey: stored.survey, directory: ProviderDirectory(environment: [:]))
            Issue.record("a missing key must be refused")
        } catch {
            guard case .provider(.missingAPIKey(_, let variable), panelIndex: nil) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(variable == "OPENAI_API_KEY")
        }
    }
}
