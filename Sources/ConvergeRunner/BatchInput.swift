import ConvergeCore
import ConvergeProviders
import Foundation

/// One prompt of a batch: its id (unique in the batch), the prompt, and the rubric it is checked against.
public struct BatchItem: Sendable, Hashable {
    /// 1 to 100 characters of `A-Z a-z 0-9 . _ -`, not starting with `.` (it names a folder on export).
    public var id: String
    public var prompt: String
    /// This item's own rubric (JSONL `rubric`: a YAML file, relative to the batch file's folder); `nil` uses
    /// the batch's `--rubric`, if any.
    public var rubric: SurveySpec.RubricSource?
    /// Where the item was read, for messages: `file:line`, or the prompt file.
    public var source: String

    public init(id: String, prompt: String, rubric: SurveySpec.RubricSource? = nil, source: String) {
        self.id = id
        self.prompt = prompt
        self.rubric = rubric
        self.source = source
    }
}

/// Reads a batch's prompts: JSONL (one `{"id", "prompt", "rubric"?}` object a line), CSV (a header row naming
/// `id` and `prompt` columns, RFC 4180 quoting) or a folder of prompt files (`*.md`, `*.txt`; the file stem is
/// the id). Everything is checked before anything is asked: an error names the file and line.
public enum BatchInput {
    public enum Format: String, Sendable, CaseIterable {
        case jsonl, csv, folder
    }

    /// The most prompts one batch may hold.
    public static let maxItems = 10_000

    /// Reads the batch at `path`: a folder, a `.csv` file, or JSONL (`.jsonl`, `.ndjson`, or any other file).
    /// - Throws: `InputError` (file and line where there is one): a file that cannot be read or is not UTF-8,
    ///   an empty batch, a line that is not a JSON object, a missing or blank `id` or `prompt`, an id that is not
    ///   a name, a duplicate id (naming the line of the first), a prompt over ``RequestLimits/maxPromptBytes``,
    ///   a rubric file that cannot be read or is not a rubric.
    public static func load(_ path: String) throws -> [BatchItem] {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
            throw InputError(file: path, "no such file or folder")
        }
        if isFolder.boolValue { return try loadFolder(path) }
        let text = try SurveyFolder.readText(path)
        let base = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let format: Format = path.lowercased().hasSuffix(".csv") ? .csv : .jsonl
        return try parse(text, format: format, file: path) { name, source in
            let file = name.hasPrefix("/") ? name : base + "/" + name
            let yaml: String
            do {
                yaml = try SurveyFolder.readText(file)
            } catch let error as InputError {
                throw InputError(file: source.file, line: source.line, field: "rubric", error.description)
            }
            return SurveySpec.RubricSource(file: file, yaml: yaml)
        }
    }

    /// Where an item was read: the batch file and its line.
    public struct Location: Sendable {
        public var file: String
        public var line: Int
    }

    /// Parses a JSONL or CSV batch's text (pure, but for `rubric`, which turns a JSONL item's `rubric` value
    /// into its source). The rubrics' YAML is parsed here too.
    /// - Throws: `InputError` as ``load(_:)`` does.
    public static func parse(_ text: String, format: Format, file: String,
                             rubric: (String, Location) throws -> SurveySpec.RubricSource = { name, at in
                                 throw InputError(file: at.file, line: at.line, field: "rubric", "no rubric file `\(name)` here")
                             }) throws -> [BatchItem] {
        var items: [BatchItem] = []
        switch format {
        case .jsonl:
            for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                let content = line.hasSuffix("\r") ? line.dropLast() : line
                if content.allSatisfy(\.isWhitespace) { continue }
                let at = Location(file: file, line: n + 1)
                items.append(try jsonItem(String(content), at: at, rubric: rubric))
            }
        case .csv:
            let records = try CSVRecords.parse(text, file: file)
            guard let header = records.first else { throw InputError(file: file, "the batch is empty: no header row, no prompts") }
            let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let idColumn = names.firstIndex(of: "id"), let promptColumn = names.firstIndex(of: "prompt") else {
                throw InputError(file: file, line: header.line,
                                 "the header row must name the columns `id` and `prompt` (found: \(header.fields.joined(separator: ",")))")
            }
            for record in records.dropFirst() {
                let at = Location(file: file, line: record.line)
                guard record.fields.count == header.fields.count else {
                    throw InputError(file: file, line: record.line,
                                     "\(record.fields.count) fields; the header row has \(header.fields.count)")
                }
                items.append(try item(id: record.fields[idColumn], prompt: record.fields[promptColumn], rubric: nil,
                                      source: "\(file):\(record.line)", at: at))
            }
        case .folder:
            throw InputError(file: file, "a folder batch is read with BatchInput.load")
        }
        try check(items, file: file)
        return items
    }

    private static func jsonItem(_ line: String, at: Location,
                                 rubric: (String, Location) throws -> SurveySpec.RubricSource) throws -> BatchItem {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed])
        } catch {
            throw InputError(file: at.file, line: at.line, "not JSON; each line must be one object {\"id\", \"prompt\", \"rubric\"?}")
        }
        guard let fields = object as? [String: Any] else {
            throw InputError(file: at.file, line: at.line, "not a JSON object; each line must be {\"id\", \"prompt\", \"rubric\"?}")
        }
        for key in ["id", "prompt", "rubric"] where fields[key] != nil && !(fields[key] is String) {
            throw InputError(file: at.file, line: at.line, field: key, "must be a string")
        }
        guard let id = fields["id"] as? String else { throw InputError(file: at.file, line: at.line, field: "id", "missing") }
        guard let prompt = fields["prompt"] as? String else {
            throw InputError(file: at.file, line: at.line, field: "prompt", "missing")
        }
        let source = try (fields["rubric"] as? String).map { try rubric($0, at) }
        return try item(id: id, prompt: prompt, rubric: source, source: "\(at.file):\(at.line)", at: at)
    }

    private static func item(id: String, prompt: String, rubric: SurveySpec.RubricSource?, source: String,
                             at: Location?) throws -> BatchItem {
        let file = at?.file ?? source
        let line = at?.line
        guard isName(id) else {
            throw InputError(file: file, line: line, field: "id",
                             "`\(id.prefix(40))` is not an id: 1 to 100 of A-Z a-z 0-9 . _ -, not starting with `.`")
        }
        if prompt.allSatisfy(\.isWhitespace) { throw InputError(file: file, line: line, field: "prompt", "blank") }
        if prompt.utf8.count > RequestLimits.maxPromptBytes {
            throw InputError(file: file, line: line, field: "prompt",
                             "\(prompt.utf8.count) bytes; the limit is \(RequestLimits.maxPromptBytes) bytes")
        }
        if let rubric {
            do {
                _ = try Rubric(yaml: rubric.yaml, file: rubric.file)
            } catch let error as InputError {
                throw InputError(file: file, line: line, field: "rubric", error.description)
            }
        }
        return BatchItem(id: id, prompt: prompt, rubric: rubric, source: source)
    }

    private static func loadFolder(_ path: String) throws -> [BatchItem] {
        let names = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
        var items: [BatchItem] = []
        for name in names {
            let url = URL(fileURLWithPath: path).appendingPathComponent(name)
            let stem = url.deletingPathExtension().lastPathComponent
            guard SurveyFolder.answerExtensions.contains(url.pathExtension.lowercased()), !name.hasPrefix("."),
                  !SurveyFolder.reservedStems.contains(stem.lowercased()) || stem.lowercased() == "prompt" else { continue }
            items.append(try item(id: stem, prompt: try SurveyFolder.readText(url.path), rubric: nil, source: url.path,
                                  at: nil))
        }
        try check(items, file: path)
        return items
    }

    /// At least one item, at most ``maxItems``, no id twice (case-insensitively: ids name folders).
    private static func check(_ items: [BatchItem], file: String) throws {
        if items.isEmpty { throw InputError(file: file, "the batch is empty: no prompts") }
        if items.count > maxItems { throw InputError(file: file, "\(items.count) prompts; a batch holds at most \(maxItems)") }
        var seen: [String: String] = [:]
        for item in items {
            if let first = seen[item.id.lowercased()] {
                let (location, line) = split(item.source)
                throw InputError(file: location, line: line, field: "id", "duplicate id `\(item.id)` (first at \(first))")
            }
            seen[item.id.lowercased()] = item.source
        }
    }

    /// `file:line` as its parts (a folder item's source is its file, with no line).
    private static func split(_ source: String) -> (String, Int?) {
        guard let colon = source.lastIndex(of: ":"), let line = Int(source[source.index(after: colon)...]) else {
            return (source, nil)
        }
        return (String(source[..<colon]), line)
    }

    /// Whether `id` can name an item (and its folder on export).
    public static func isName(_ id: String) -> Bool {
        (1...100).contains(id.count) && !id.hasPrefix(".") && id.unicodeScalars.allSatisfy { c in
            ("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || "._-".unicodeScalars.contains(c)
        }
    }
}
