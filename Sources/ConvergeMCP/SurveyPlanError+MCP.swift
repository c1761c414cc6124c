import ConvergeCore
import ConvergeProviders
import ConvergeRunner

extension SurveyPlanError {
    /// The error as a tool error, mapped once for `ask` and `follow_up`: the CLI's message, with the field named
    /// as the tool's argument (`samples`, `follow_ups[1]`, `models[2]`) instead of the flag.
    ///
    /// - Parameter panelField: the argument that panel entry `n` (0-based) came from (`models[n]` or `panel`).
    func toolError(panelField: (Int) -> String = { "models[\($0)]" }) -> InputError {
        switch self {
        case .outOfRange(.samples): InputError(field: "samples", "must be at least 1")
        case .outOfRange(.concurrency): InputError(field: "concurrency", "must be at least 1")
        case .outOfRange(.timeout):
            InputError(field: "timeout", "must be a positive number of seconds, \(RequestLimits.maxTimeoutInWords)")
        case .outOfRange(.maxTokens): InputError(field: "max_tokens", "must be at least 1")
        case .outOfRange(.temperature): InputError(field: "temperature", "must be a number \(RequestLimits.temperatureInWords)")
        case .outOfRange(.panelistTemperature(let n)):
            InputError(field: panelField(n), "`temperature` must be a number \(RequestLimits.temperatureInWords)")
        case .blankPrompt: InputError(field: "prompt", "the prompt is empty")
        case .blankFollowUp(let n): InputError(field: "follow_ups[\(n)]", "a follow-up is empty")
        case .emptyPanel: InputError(field: "models", "the panel is empty")
        case .provider(let error, let n): InputError(field: n.map(panelField) ?? "panel", error.description)
        case .rubric(let error): error
        case .judge(let error): InputError(field: "judge", error.description)
        case .rubricDrafter(let error): InputError(field: "draft_rubric", error.description)
        case .rubricNotDrafted(let model, let reason): InputError(field: "draft_rubric", "\(model) drafted no rubric: \(reason)")
        }
    }
}
