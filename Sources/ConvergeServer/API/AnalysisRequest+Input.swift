import ConvergeAnalysis
import ConvergeCore
import ConvergeJudge
import ConvergeMCP
import ConvergeProviders
import ConvergeReport
import ConvergeRunner

/// An analysis request checked against openapi.yaml's constraints and turned into the analyser's input.
struct AnalysisJob: Sendable {
    var input: AnalysisInput
    var blind: Bool
    /// `nil`: the server's default (hybrid when it has the embedding model, else lexical).
    var similarity: Components.Schemas.Similarity?
    /// The judge's model spec (`judge`), parsed; its provider is resolved by `AnalysisService`.
    var judge: ModelSpec?
}

extension AnalysisJob {
    static let maxAnswers = 200
    static let maxNameLength = 200

    /// Checks every constraint openapi.yaml states (lengths count Unicode scalars, as JSON Schema does).
    ///
    /// As `converge analyze` reads a survey folder: the prompt without leading and trailing white space (one
    /// of white space only is no prompt), and an answer of white space only refused; answers are kept exactly
    /// as given (report offsets index them).
    ///
    /// - Throws: `APIError` 400 (`invalid_field`) naming the field for a constraint of the schema; 422
    ///   (`unprocessable`) naming `answers[n].text` for an answer of white space only (an empty one breaks the
    ///   schema's `minLength`: 400), and for rubric YAML
    ///   that does not parse as a rubric and for duplicate rubric item ids.
    init(_ request: Components.Schemas.AnalysisRequest) throws(APIError) {
        guard (1...Self.maxAnswers).contains(request.answers.count) else {
            throw .invalidField("answers", "must hold 1 to \(Self.maxAnswers) answers, not \(request.answers.count)")
        }
        var answers: [Answer] = []
        for (n, answer) in request.answers.enumerated() {
            let path = "answers[\(n)]"
            try Self.checkName(answer.panelist, at: "\(path).panelist")
            if let label = answer.label { try Self.checkName(label, at: "\(path).label") }
            if let model = answer.model { try Self.checkName(model, at: "\(path).model") }
            guard !answer.text.isEmpty else { throw .invalidField("\(path).text", "must not be empty") }
            guard !answer.text.trimmingWhitespace.isEmpty else {
                throw .unprocessable("\(path).text", "\(path).text: the answer is blank (white space only)")
            }
            answers.append(Answer(panelist: Panelist(id: answer.panelist, label: answer.label, model: answer.model),
                                  text: answer.text))
        }
        var rubric: Rubric?
        switch request.rubric {
        case nil:
            rubric = nil
        case .RubricYAML(let yaml):
            guard !yaml.isEmpty else { throw .invalidField("rubric", "must not be empty") }
            do {
                rubric = try Rubric(yaml: yaml, file: "rubric")
            } catch let error as InputError {
                throw .unprocessable(error.field.map { "rubric.\($0)" } ?? "rubric", "rubric YAML: \(error.description)")
            } catch {
                throw .unprocessable("rubric", "rubric YAML could not be read")
            }
        case .Rubric(let structured):
            rubric = try Self.rubric(structured)
        }
        let prompt = request.prompt?.trimmingWhitespace
        self.input = AnalysisInput(prompt: prompt?.isEmpty == false ? prompt : nil, answers: answers, rubric: rubric)
        self.blind = request.blind ?? false
        self.similarity = request.similarity
        do {
            self.judge = try request.judge.map { spec throws(ProviderError) in try ModelSpec(parsing: spec) }
        } catch {
            throw .invalidField("judge", error.description)
        }
    }

    private static func checkName(_ value: String, at field: String) throws(APIError) {
        let length = value.unicodeScalars.count
        guard length >= 1 else { throw .invalidField(field, "must not be empty") }
        guard length <= maxNameLength else { throw .invalidField(field, "must be at most \(maxNameLength) characters") }
    }

    /// A structured rubric, checked as `Rubric(yaml:)` checks YAML (non-empty lists and strings, unique ids).
    static func rubric(_ value: Components.Schemas.Rubric) throws(APIError) -> Rubric {
        guard !value.title.isEmpty else { throw .invalidField("rubric.title", "must not be empty") }
        guard !value.categories.isEmpty else { throw .invalidField("rubric.categories", "must not be empty") }
        var categories: [Rubric.Category] = []
        var seen: [String: String] = [:]
        for (c, category) in value.categories.enumerated() {
            let path = "rubric.categories[\(c)]"
            guard !category.name.isEmpty else { throw .invalidField("\(path).name", "must not be empty") }
            guard !category.items.isEmpty else { throw .invalidField("\(path).items", "must not be empty") }
            var items: [Rubric.Item] = []
            for (i, item) in category.items.enumerated() {
                let itemPath = "\(path).items[\(i)]"
                guard !item.id.isEmpty else { throw .invalidField("\(itemPath).id", "must not be empty") }
                guard !item.text.isEmpty else { throw .invalidField("\(itemPath).text", "must not be empty") }
                if let first = seen[item.id] {
                    throw .unprocessable("\(itemPath).id", "\(itemPath).id: duplicate rubric item id (first used at \(first))")
                }
                seen[item.id] = "\(itemPath).id"
                items.append(Rubric.Item(id: item.id, text: item.text))
            }
            categories.append(Rubric.Category(name: category.name, items: items))
        }
        return Rubric(title: value.title, categories: categories)
    }
}

/// Runs analyses: the pure analyser with the requested similarity model, and the judge when one is asked for
/// (its provider and key from the server's `directory`, never from the request).
package struct AnalysisService: Sendable {
    package var directory: ProviderDirectory
    /// Longest one judge request may take.
    package var judgeTimeout: Duration
    /// Attempts per judge request (the config file's `max_attempts`); `nil`: the default retry policy.
    package var maxAttempts: Int?
    /// The similarity model for a request's `similarity` (`nil`: the server's default); throws when the
    /// matching needs a model the server has not loaded.
    package var similarity: @Sendable (_ name: String?) throws -> any SimilarityModel

    package init(directory: ProviderDirectory = ProviderDirectory(), judgeTimeout: Duration = .seconds(120),
                 maxAttempts: Int? = nil,
                 similarity: @escaping @Sendable (_ name: String?) throws -> any SimilarityModel = MCPContext.lexicalOnly) {
        self.directory = directory
        self.judgeTimeout = judgeTimeout
        self.maxAttempts = maxAttempts
        self.similarity = similarity
    }

    /// The similarity model of `job`.
    /// - Throws: `APIError` 422 naming `similarity` when the server cannot offer it (no embedding model).
    func similarity(for job: AnalysisJob) throws(APIError) -> any SimilarityModel {
        try similarity(named: job.similarity?.rawValue)
    }

    /// The similarity model named `name` (`lexical`, `embedding`, `hybrid`; `nil`: the server's default).
    /// - Throws: `APIError` 422 naming `similarity` when the server cannot offer it (no embedding model).
    func similarity(named name: String?) throws(APIError) -> any SimilarityModel {
        do {
            return try similarity(name)
        } catch let error as InputError {
            throw .unprocessable("similarity", error.message)
        } catch {
            throw .unprocessable("similarity", "\(error)")
        }
    }

    /// The name of the server's default matching (`hybrid` when it has loaded the embedding model, else
    /// `lexical`), and whether embedding and hybrid matching are offered.
    var matchings: (defaultName: String, embedding: Bool) {
        let defaultName = (try? similarity(nil))?.name ?? "lexical"
        return (defaultName, (try? similarity("embedding")) != nil)
    }

    /// The judge of `job`, its provider resolved; `nil` without one.
    /// - Throws: `APIError` 422 naming `judge` for an unknown provider or a missing key.
    func judge(for job: AnalysisJob) throws(APIError) -> Judge? {
        guard let spec = job.judge else { return nil }
        do {
            var client = try ModelClient(resolving: spec, directory: directory, maxAttempts: maxAttempts)
            client.timeout = judgeTimeout
            return Judge(client: client)
        } catch {
            throw .unprocessable("judge", error.description)
        }
    }

    /// - Parameter attachingAnswers: put the answers into the report's `turns` (the HTML page shows them in
    ///   full); blind labels are applied after, so they cover the answers and the judge's claims too.
    func analyze(_ job: AnalysisJob, similarity: any SimilarityModel, judge: Judge? = nil,
                 attachingAnswers: Bool = false) async -> Report {
        let analyzer = Analyzer(similarity: similarity)
        let input = job.input
        // Off the cooperative pool: a long analysis must not stall the server's other requests.
        var report = await offCooperativePool { analyzer.analyze(input) }
        if let judge { report = await judge.judge(report, input: job.input, analyzer: analyzer) }
        if attachingAnswers { report = report.attachingAnswers(job.input.answers) }
        return job.blind ? report.blinded() : report
    }
}
