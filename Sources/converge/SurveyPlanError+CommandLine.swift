import ArgumentParser
import ConvergeCore
import ConvergeProviders
import ConvergeRunner

extension SurveyPlanError {
    /// The error in the command line's words, mapped once for `ask`, `surveys resume` and `follow-up`: a flag
    /// out of range or a blank prompt is a usage error (`ValidationError`: the usage is printed), anything else
    /// an `InputError`; both exit with status 2.
    var commandLineError: any Error {
        switch self {
        case .outOfRange(.samples): ValidationError("--samples must be at least 1")
        case .outOfRange(.concurrency): ValidationError("--concurrency must be at least 1")
        case .outOfRange(.timeout):
            ValidationError("--timeout must be a positive number of seconds, \(RequestLimits.maxTimeoutInWords)")
        case .outOfRange(.maxTokens): ValidationError("--max-tokens must be at least 1")
        case .outOfRange(.temperature): ValidationError("--temperature must be a number \(RequestLimits.temperatureInWords)")
        case .outOfRange(.panelistTemperature(let n)):
            InputError(field: "panel member \(n + 1)", "`temperature` must be a number \(RequestLimits.temperatureInWords)")
        case .blankPrompt: ValidationError("the prompt is empty")
        case .blankFollowUp: ValidationError("a follow-up is empty")
        case .emptyPanel: InputError("the panel is empty")
        case .provider(let error, _): InputError(error.description)
        case .rubric(let error): error
        case .judge(let error): InputError(field: "--judge", error.description)
        case .rubricDrafter(let error): InputError(field: "--draft-rubric", error.description)
        case .rubricNotDrafted(let model, let reason): InputError(field: "--draft-rubric", "\(model) drafted no rubric: \(reason)")
        }
    }
}
