import ConvergeCore
import ConvergeProviders
import ConvergeRunner

/// A `POST /v1/batches` request checked against openapi.yaml's constraints, then every prompt planned as
/// `POST /v1/surveys` plans one (``SurveyPlan/init(_:directory:config:drafted:)``: the same checks, keys from the
/// server's environment, the config file's run settings), before anything is stored.
enum BatchPlanning {
    static let maxPrompts = 500
    static let maxID = 100

    /// - Returns: each prompt's id and plan, in request order.
    /// - Throws: `APIError` 400 (`invalid_field`) or 422 (`unprocessable`) naming the field: `prompts[3].id` for an
    ///   id that is not 1-100 of `A-Z a-z 0-9 . _ -` or repeats one, `prompts[3].prompt` for a prompt, and the
    ///   survey's own fields (`panel[1]`, `rubric`, `judge`) as `POST /v1/surveys` names them; a prompt's own rubric
    ///   as `prompts[3].rubric`.
    static func plans(_ request: Components.Schemas.BatchRequest, directory: ProviderDirectory,
                      config: ConvergeConfig = ConvergeConfig()) throws(APIError) -> [(itemID: String, plan: SurveyPlan)] {
        guard (1...maxPrompts).contains(request.prompts.count) else {
            throw .invalidField("prompts", "must hold 1 to \(maxPrompts) prompts, not \(request.prompts.count)")
        }
        var seen: [String: Int] = [:]
        for (n, item) in request.prompts.enumerated() {
            let field = "prompts[\(n)].id"
            try SurveyPlan.checkLength(item.id, at: field, min: 1, max: maxID)
            guard item.id.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)
                                                                      || ".-_".unicodeScalars.contains($0)) }) else {
                throw .invalidField(field, "must be letters A-Z a-z, digits, `.`, `_` or `-`")
            }
            if let first = seen[item.id] {
                throw .unprocessable(field, "\(field): the id `\(item.id)` is also prompts[\(first)].id; ids are unique in a batch")
            }
            seen[item.id] = n
            if let rubric = item.rubric, rubric.isEmpty { throw .invalidField("prompts[\(n)].rubric", "must not be empty") }
        }
        var plans: [(itemID: String, plan: SurveyPlan)] = []
        for (n, item) in request.prompts.enumerated() {
            let survey = Components.Schemas.SurveyRequest(
                prompt: item.prompt, panel: request.panel, followUps: request.followUps, samples: request.samples,
                temperature: request.temperature, maxTokens: request.maxTokens, system: request.system,
                rubric: item.rubric ?? request.rubric, blind: request.blind, judge: request.judge)
            do {
                plans.append((item.id, try SurveyPlan(survey, directory: directory, config: config)))
            } catch {
                throw error.naming(item: n, ownRubric: item.rubric != nil)
            }
        }
        return plans
    }
}

extension APIError {
    /// A survey plan's error for the batch's prompt `n`: its `prompt` (and its own rubric) as `prompts[n].prompt`
    /// (`prompts[n].rubric`); the fields that every prompt shares keep their names.
    func naming(item n: Int, ownRubric: Bool) -> APIError {
        guard let field else { return self }
        let renamed: String
        if field == "prompt" {
            renamed = "prompts[\(n)].prompt"
        } else if ownRubric, field == "rubric" || field.hasPrefix("rubric.") {
            renamed = "prompts[\(n)]." + field
        } else {
            return self
        }
        var error = self
        error.field = renamed
        if error.message.hasPrefix(field) { error.message = renamed + error.message.dropFirst(field.count) }
        return error
    }
}
