import ConvergeAnalysis
import ConvergeCore
import ConvergeRunner
import MCP

extension ConvergeTools {
    /// `analyze`: answers from `paths` (as `converge analyze PATH...`) or inline `answers`; no model is called.
    func analyze(_ arguments: [String: Value]?) throws -> CallTool.Result {
        let args = try ToolArguments(arguments, allowed: ["paths", "answers", "prompt", "rubric", "rubric_yaml", "no_rubric",
                                                         "similarity", "blind", "format"])
        let paths = try args.strings("paths").enumerated().map { try path($1, field: "paths[\($0)]") }
        let inline = try answers(args)
        let rubric = try rubric(args)
        let noRubric = try args.bool("no_rubric") ?? false
        if rubric != nil && noRubric {
            throw InputError(field: "no_rubric", "a rubric and `no_rubric` cannot be used together")
        }
        let similarityName = try args.oneOf("similarity", ["lexical", "embedding", "hybrid"])
        let blind = try args.bool("blind") ?? false
        let markdown = try args.oneOf("format", ["json", "md"]) == "md"
        var input: AnalysisInput
        switch (paths.isEmpty, inline.isEmpty) {
        case (false, true):
            input = try SurveyFolder.load(paths: paths, useFolderRubric: !noRubric && rubric == nil)
            if let rubric { input.rubric = rubric }
        case (true, false):
            input = AnalysisInput(prompt: nil, answers: inline, rubric: rubric)
        case (false, false):
            throw InputError(field: "answers", "give `paths` or `answers`, not both")
        case (true, true):
            throw InputError(field: "paths", "give survey folders or answer files in `paths`, or the answers in `answers`")
        }
        if let prompt = try args.string("prompt") { input.prompt = prompt }
        let analyzer = Analyzer(similarity: try context.similarity(similarityName))
        let report = analyzer.analyze(input)
        return try ToolResult.report(blind ? report.blinded() : report, markdown: markdown)
    }

    /// The inline `answers`: each an object with `id`, `text` and an optional `label`; ids unique.
    private func answers(_ args: ToolArguments) throws -> [Answer] {
        guard args.has("answers"), let value = args.values["answers"] else { return [] }
        guard let array = value.arrayValue else {
            throw InputError(field: "answers", "must be an array of {id, text}, not \(ToolArguments.kind(value))")
        }
        var seen: Set<String> = []
        return try array.enumerated().map { n, element in
            let field = "answers[\(n)]"
            guard let object = element.objectValue else {
                throw InputError(field: field, "must be an object with `id` and `text`, not \(ToolArguments.kind(element))")
            }
            guard let id = object["id"]?.stringValue, !id.trimmingWhitespace.isEmpty else {
                throw InputError(field: "\(field).id", "is required (a non-empty string)")
            }
            guard let text = object["text"]?.stringValue else { throw InputError(field: "\(field).text", "is required (a string)") }
            if let label = object["label"], label.stringValue == nil {
                throw InputError(field: "\(field).label", "must be a string, not \(ToolArguments.kind(label))")
            }
            guard seen.insert(id).inserted else { throw InputError(field: "\(field).id", "`\(id)` is given twice") }
            return Answer(panelist: Panelist(id: id, label: object["label"]?.stringValue), text: text)
        }
    }
}
