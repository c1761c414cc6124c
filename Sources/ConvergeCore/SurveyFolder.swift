import Foundation

/// What an analysis reads: the answers of one turn (several per panelist with repeat sampling), the prompt,
/// a rubric, and, for live surveys, the whole panel with the errors of panelists that did not answer.
public struct AnalysisInput: Sendable {
    public var prompt: String?
    public var answers: [Answer]
    public var rubric: Rubric?
    /// The panel in order, when it holds panelists without answers; `nil` means the answers' panelists.
    public var panel: [Panelist]?
    public var failures: [String: String]
    /// The files the input was read from (answers, prompt, rubric), as given.
    public var sources: [String] = []
    /// Samples asked of each panelist (repeat sampling), failed ones included: the denominator of stability.
    public var samplesPerPanelist: Int?
    /// For answering panelists: why some of their requests failed (reported beside their answers);
    /// for the others: why they have no answer. By panelist id.

    public init(prompt: String?, answers: [Answer], rubric: Rubric?, panel: [Panelist]? = nil,
                failures: [String: String] = [:]) {
        self.prompt = prompt
        self.answers = answers
        self.rubric = rubric
        self.panel = panel
        self.failures = failures
    }
}

/// Reads survey folders and answer files (README.md, "Analyze answers you already have").
///
/// A folder holds `prompt.md` (optional), one answer per `*.md` or `*.txt` file whose stem is the panelist
/// id, and `rubric.yaml` (optional). Files that describe the folder rather than answer the prompt are not
/// answers: `README`, `SOURCE`, `LICENSE`, `NOTES`, `CHANGELOG`, and `follow-up*` (a later turn's prompt),
/// in any case and with either extension. Hidden files and sub-folders are skipped.
public enum SurveyFolder {
    /// Extensions read as answers.
    public static let answerExtensions: Set<String> = ["md", "txt", "markdown"]
    /// Stems (lower-cased) that never name a panelist.
    public static let reservedStems: Set<String> = ["prompt", "rubric", "readme", "source", "license", "notes",
                                                    "changelog"]
    /// Largest answer file read, in bytes.
    public static let maxAnswerBytes = 64 << 20

    /// Loads answers from folders and files.
    ///
    /// - Parameters:
    ///   - paths: survey folders and/or answer files, in the order given; folders are listed by file name.
    ///   - promptFile: overrides any `prompt.md` found in a folder.
    ///   - rubricFile: overrides any `rubric.yaml` found in a folder.
    ///   - useFolderRubric: `false` ignores `rubric.yaml` in folders (`--no-rubric`).
    /// - Throws: `InputError` for a missing path, a folder with no answers, an empty, binary or non-UTF-8
    ///   file (with the byte offset and line), two answers with the same panelist id, and rubric errors.
    public static func load(paths: [String], promptFile: String? = nil, rubricFile: String? = nil,
                            useFolderRubric: Bool = true) throws -> AnalysisInput {
        guard !paths.isEmpty else { throw InputError("no survey folder or answer files given") }
        let fm = FileManager.default
        var answerFiles: [URL] = []
        var folderPrompt: URL?
        var folderRubric: URL?
        for path in paths {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw InputError(file: path, "no such file or folder")
            }
            let url = URL(fileURLWithPath: path)
            guard isDirectory.boolValue else {
                // Given one by one (a shell glob, say), prompt.md and rubric.yaml keep their roles.
                let stem = url.deletingPathExtension().lastPathComponent.lowercased()
                let ext = url.pathExtension.lowercased()
                if stem == "prompt", answerExtensions.contains(ext) {
                    try take(url, as: "prompt", into: &folderPrompt)
                } else if stem == "rubric", ext == "yaml" || ext == "yml" {
                    try take(url, as: "rubric", into: &folderRubric)
                } else {
                    answerFiles.append(url)
                }
                continue
            }
            let names: [String]
            do {
                names = try fm.contentsOfDirectory(atPath: path).sorted()
            } catch {
                throw InputError(file: path, "cannot list the folder (\(error.localizedDescription))")
            }
            var found = 0
            for name in names where !name.hasPrefix(".") {
                let file = url.appendingPathComponent(name)
                var childIsDirectory: ObjCBool = false
                // A link to nothing stays in (reading it says so); links to folders are skipped as folders are.
                let danglingLink = (try? fm.destinationOfSymbolicLink(atPath: file.path)) != nil
                guard fm.fileExists(atPath: file.path, isDirectory: &childIsDirectory) || danglingLink,
                      !childIsDirectory.boolValue
                else { continue }
                let stem = file.deletingPathExtension().lastPathComponent.lowercased()
                let ext = file.pathExtension.lowercased()
                if stem == "prompt", answerExtensions.contains(ext) {
                    if promptFile == nil { try take(file, as: "prompt", into: &folderPrompt) }
                } else if stem == "rubric", ext == "yaml" || ext == "yml" {
                    if rubricFile == nil && useFolderRubric { try take(file, as: "rubric", into: &folderRubric) }
                } else if answerExtensions.contains(ext), !reservedStems.contains(stem),
                          !stem.hasPrefix("follow-up"), !stem.hasPrefix("followup") {
                    answerFiles.append(file)
                    found += 1
                }
            }
            if found == 0 {
                throw InputError(file: path, names.isEmpty
                    ? "the folder is empty: expected one answer file (*.md or *.txt) per panelist"
                    : "no answer files in the folder: expected one *.md or *.txt file per panelist")
            }
        }

        var answers: [Answer] = []
        var sources: [String] = []
        var seen: [String: String] = [:]
        for file in answerFiles {
            let id = file.deletingPathExtension().lastPathComponent
            if let other = seen[id] {
                throw InputError(file: file.path, "panelist id `\(id)` is already taken by \(other)")
            }
            seen[id] = file.path
            let text = try readText(file.path)
            sources.append(file.path)
            guard !text.trimmingWhitespace.isEmpty else {
                throw InputError(file: file.path, "the answer is empty")
            }
            answers.append(Answer(panelist: Panelist(id: id), text: text))
        }

        var prompt: String?
        if let promptPath = promptFile ?? folderPrompt?.path {
            prompt = try readText(promptPath).trimmingWhitespace
            sources.append(promptPath)
        }
        var rubric: Rubric?
        if let rubricPath = rubricFile ?? (useFolderRubric ? folderRubric?.path : nil) {
            rubric = try Rubric(yaml: readText(rubricPath), file: rubricPath)
            sources.append(rubricPath)
        }
        var input = AnalysisInput(prompt: prompt, answers: answers, rubric: rubric)
        input.sources = sources
        return input
    }

    /// Keeps the first prompt or rubric found; a second one with other contents is an error, since it is not
    /// clear which the user meant.
    private static func take(_ file: URL, as role: String, into slot: inout URL?) throws {
        guard let first = slot else { slot = file; return }
        func bytes(_ url: URL) -> Data? {
            try? contents(of: url.path, size: (try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int)
        }
        if bytes(first) != bytes(file) {
            throw InputError(file: file.path, "a second \(role) differs from \(first.path); pass the one to use with "
                             + (role == "prompt" ? "--prompt-file" : "--rubric"))
        }
    }

    /// The bytes of the file at `path`, whose size is `size` when known. An empty regular file is read as nothing:
    /// Foundation's Data(contentsOf:) leaks a 4 KiB buffer for every empty file it reads (swift-corelibs
    /// Foundation of Swift 6.3 on Linux; found by scripts/fuzz folder).
    private static func contents(of path: String, size: Int?) throws -> Data {
        size == 0 ? Data() : try Data(contentsOf: URL(fileURLWithPath: path))
    }

    /// Reads a file as UTF-8 text, exactly (no newline or BOM translation). A symbolic link is followed (to the
    /// end of a chain): a link to a regular file is read as that file.
    ///
    /// - Throws: `InputError` when the file cannot be read, is a link to nothing, is not a regular file (a
    ///   folder, device, pipe or socket, also through a link), is larger than `maxAnswerBytes`, holds a NUL
    ///   byte (binary), or is not valid UTF-8 (with the byte offset and line of the first bad byte).
    public static func readText(_ path: String) throws -> String {
        let data: Data
        do {
            var attributes = try FileManager.default.attributesOfItem(atPath: path)
            if attributes[.type] as? FileAttributeType == .typeSymbolicLink {
                let target = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
                guard let resolved = try? FileManager.default.attributesOfItem(atPath: target),
                      resolved[.type] as? FileAttributeType != .typeSymbolicLink
                else { throw InputError(file: path, "is a symbolic link to a file that does not exist") }
                attributes = resolved
            }
            if let type = attributes[.type] as? FileAttributeType, type != .typeRegular {
                throw InputError(file: path, type == .typeDirectory ? "is a folder, not a file"
                                 : "is not a regular file (a device, pipe or socket)")
            }
            if let size = attributes[.size] as? Int, size > maxAnswerBytes {
                throw InputError(file: path, "the file is \(size) bytes; the limit is \(maxAnswerBytes) bytes")
            }
            data = try contents(of: path, size: attributes[.size] as? Int)
        } catch let error as InputError {
            throw error
        } catch {
            let reason = (error as NSError).code == NSFileReadNoSuchFileError || (error as NSError).code == 260
                ? "no such file" : "cannot read the file (\((error as NSError).localizedDescription))"
            throw InputError(file: path, reason)
        }
        return try decodeUTF8(data, file: path)
    }

    /// Decodes UTF-8 bytes exactly, or throws `InputError` naming the first NUL or invalid byte.
    public static func decodeUTF8(_ data: Data, file: String) throws -> String {
        let bytes = [UInt8](data)
        if let nul = bytes.firstIndex(of: 0) {
            throw InputError(file: file, line: lineNumber(bytes, nul),
                             "binary file: NUL byte at byte offset \(nul); expected UTF-8 text")
        }
        if let bad = firstInvalidUTF8(bytes) {
            throw InputError(file: file, line: lineNumber(bytes, bad),
                             String(format: "not valid UTF-8: byte 0x%02X at byte offset %d", bytes[bad], bad))
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func lineNumber(_ bytes: [UInt8], _ offset: Int) -> Int {
        bytes[..<offset].reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
    }

    /// Index of the first byte that does not start or continue a valid UTF-8 sequence (RFC 3629).
    static func firstInvalidUTF8(_ bytes: [UInt8]) -> Int? {
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            if b < 0x80 { i += 1; continue }
            let length: Int
            var lower: UInt8 = 0x80, upper: UInt8 = 0xBF
            switch b {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; lower = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; upper = 0x9F
            case 0xF0: length = 4; lower = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; upper = 0x8F
            default: return i
            }
            guard i + length <= n else { return i }
            if bytes[i + 1] < lower || bytes[i + 1] > upper { return i }
            for k in 2..<max(2, length) where bytes[i + k] < 0x80 || bytes[i + k] > 0xBF { return i }
            i += length
        }
        return nil
    }
}
