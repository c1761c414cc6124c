import ConvergeAnalysis
import ConvergeCore
import ConvergeEmbeddings
import Foundation

/// The fuzz targets: each takes arbitrary bytes and must neither crash, hang nor break an invariant (a
/// broken invariant is a `fatalError`, which libFuzzer reports as a crash with the input).
enum FuzzTargets {
    static let names = [
        "segmenter", "analyzer", "rubric", "folder", "safetensors", "tokenizer", "openai", "anthropic", "gemini", "multipart",
    ]

    static func run(_ target: String, _ data: Data) {
        switch target {
        case "segmenter": segmenter(data)
        case "analyzer": analyzer(data)
        case "rubric": rubric(data)
        case "folder": folder(data)
        case "safetensors": safetensors(data)
        case "tokenizer": tokenizer(data)
        case "openai": provider(.openAI, data)
        case "anthropic": provider(.anthropic, data)
        case "gemini": provider(.gemini, data)
        case "multipart": multipart(data)
        default: fatalError("unknown fuzz target \(target) (known: \(names.joined(separator: ", ")))")
        }
    }

    /// The Markdown segmenter on one answer: every statement's text is the answer's scalars at its offsets.
    static func segmenter(_ data: Data) {
        let text = String(decoding: data, as: UTF8.self)
        let scalars = Array(text.unicodeScalars)
        for statement in Segmenter.statements(of: scalars, answerIndex: 0) {
            guard statement.start >= 0, statement.start < statement.end, statement.end <= scalars.count else {
                fatalError("statement offsets \(statement.start)..<\(statement.end) outside 0..<\(scalars.count)")
            }
            var quote = String.UnicodeScalarView()
            quote.append(contentsOf: scalars[statement.start..<statement.end])
            guard String(quote) == statement.text else { fatalError("statement text is not the answer's scalars") }
        }
    }

    /// The whole analyzer (lexical matching) on up to five answers cut at 0x1E bytes: every quote holds.
    static func analyzer(_ data: Data) {
        let parts = data.split(separator: 0x1E, maxSplits: 5, omittingEmptySubsequences: false).prefix(5)
        let answers = parts.enumerated().map { n, bytes in
            Answer(panelist: Panelist(id: "p\(n)"), text: String(decoding: bytes, as: UTF8.self))
        }
        let input = AnalysisInput(prompt: answers.first?.text, answers: answers, rubric: nil)
        let report = Analyzer(similarity: LexicalSimilarity()).analyze(input)
        let texts = Dictionary(uniqueKeysWithValues: answers.map { ($0.panelist.id, Array($0.text.unicodeScalars)) })
        func check(_ evidence: Report.Evidence) {
            guard let scalars = texts[evidence.panelist], evidence.start >= 0, evidence.start <= evidence.end,
                  evidence.end <= scalars.count else { fatalError("evidence outside its answer: \(evidence)") }
            var quote = String.UnicodeScalarView()
            quote.append(contentsOf: scalars[evidence.start..<evidence.end])
            guard String(quote) == evidence.quote else { fatalError("quote is not the answer's scalars: \(evidence)") }
        }
        for point in report.keyPoints { point.evidence.forEach(check) }
        for term in report.terms { term.evidence.forEach(check) }
        for filler in report.filler ?? [] { check(filler.evidence) }
        guard (0...1).contains(report.convergence.index) else { fatalError("convergence index out of [0, 1]") }
    }

    /// The rubric parser: a parsed rubric has items with unique, non-empty ids, and its canonical YAML reads back
    /// as the same rubric.
    static func rubric(_ data: Data) {
        guard let yaml = String(data: data, encoding: .utf8), let rubric = try? Rubric(yaml: yaml) else { return }
        let ids = rubric.items.map(\.item.id)
        guard Set(ids).count == ids.count, !ids.contains("") else { fatalError("duplicate or empty rubric ids") }
        guard let again = try? Rubric(yaml: try rubric.yamlText()), again == rubric else {
            fatalError("a parsed rubric does not read back from its own YAML")
        }
    }

    /// The survey folder reader on files made from the input (name, 0x1F, content, 0x1E, ...): it loads or
    /// throws an `InputError`, never anything else.
    static func folder(_ data: Data) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("converge-fuzz-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for entry in data.split(separator: 0x1E).prefix(8) {
            let pieces = entry.split(separator: 0x1F, maxSplits: 1, omittingEmptySubsequences: false)
            let raw = String(decoding: pieces[0], as: UTF8.self)
            // A file name within the folder: path separators and NULs become '_', at most 60 characters.
            let name = String(raw.map { $0 == "/" || $0 == "\0" ? "_" : $0 }.prefix(60))
            guard !name.isEmpty, name != ".", name != ".." else { continue }
            try? Data(pieces.count > 1 ? pieces[1] : Data()).write(to: dir.appendingPathComponent(name))
        }
        do {
            _ = try SurveyFolder.load(paths: [dir.path])
        } catch is InputError {
        } catch {
            fatalError("SurveyFolder.load threw \(type(of: error)), not an InputError: \(error)")
        }
    }

    /// The safetensors reader on any bytes: it reads a header or throws; every tensor it lists lies inside the
    /// data, has a size that its dtype and shape account for, and an F32 tensor reads back as that many floats.
    static func safetensors(_ data: Data) {
        guard let file = try? SafeTensorsFile(path: "fuzz.safetensors", data: data) else { return }
        for (name, info) in file.tensors {
            guard info.range.lowerBound >= 0, info.range.upperBound <= data.count, info.shape.allSatisfy({ $0 >= 0 }) else {
                fatalError("tensor \(name) lies outside the file: \(info)")
            }
            guard info.dtype == "F32" else { continue }
            let count = info.shape.reduce(1, *)
            guard count * 4 == info.range.count else { fatalError("tensor \(name): \(info.range.count) bytes for shape \(info.shape)") }
            guard let floats = try? file.floats(name, shape: info.shape), floats.count == count else {
                fatalError("tensor \(name) listed but not readable as \(count) floats")
            }
        }
    }

    /// The tokenizer.json vocabulary scanner against `JSONDecoder` (a differential check): whenever the scanner
    /// reads a vocabulary, Foundation's decoder reads the same one from the same bytes.
    static func tokenizer(_ data: Data) {
        guard let scanned = VocabularyScanner.vocabulary(in: data) else { return }
        struct File: Decodable {
            struct Model: Decodable { var vocab: [String: Int32]? }
            var model: Model?
        }
        guard let decoded = (try? JSONDecoder().decode(File.self, from: data))?.model?.vocab else {
            fatalError("the scanner read a vocabulary of \(scanned.count) tokens that JSONDecoder refuses")
        }
        guard decoded == scanned else {
            let differing = Set(decoded.keys).symmetricDifference(scanned.keys).prefix(3)
            fatalError("the scanner and JSONDecoder read different vocabularies (\(scanned.count) vs \(decoded.count); \(differing))")
        }
    }
}
