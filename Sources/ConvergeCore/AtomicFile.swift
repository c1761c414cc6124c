import Foundation

/// Writes files so that readers never see a partial one: the bytes go to a temporary file in the same folder,
/// which is then renamed over the target (rename(2) is atomic within one file system).
///
/// A symbolic link is followed (its target is replaced, the link stays); an existing file keeps its
/// permissions; a device or pipe (`/dev/null`, a FIFO) is written to directly, never replaced.
public enum AtomicFile {
    /// - Throws: `InputError` naming the path when the folder does not exist or is not writable, or the path
    ///   is a folder; on failure the target is left as it was and the temporary file is removed.
    public static func write(_ text: String, to path: String) throws {
        let url = URL(fileURLWithPath: path).resolvingSymlinksInPath()
        try checkWritable(url.path)
        let attributes = try? FileManager.default.attributesOfItem(atPath: url.path)
        if let type = attributes?[.type] as? FileAttributeType, type != .typeRegular {
            // Character devices and FIFOs are streams: write through them.
            guard let handle = FileHandle(forWritingAtPath: url.path) else {
                throw InputError(file: path, "cannot open for writing")
            }
            defer { try? handle.close() }
            do { try handle.write(contentsOf: Data(text.utf8)) } catch {
                throw InputError(file: path, "cannot write (\((error as NSError).localizedDescription))")
            }
            return
        }
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try Data(text.utf8).write(to: temporary)
            if let mode = attributes?[.posixPermissions] as? NSNumber {
                try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: temporary.path)
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw InputError(file: path, "cannot write (\((error as NSError).localizedDescription))")
        }
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw InputError(file: path, "cannot replace the file (\(reason))")
        }
    }

    /// Whether `path` could be written: its folder exists and is writable, and it is not a folder itself.
    ///
    /// - Throws: `InputError` saying which.
    public static func checkWritable(_ path: String) throws {
        let url = URL(fileURLWithPath: path).resolvingSymlinksInPath()
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) {
            if isDirectory.boolValue { throw InputError(file: path, "is a folder; give a file name") }
            let type = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.type] as? FileAttributeType
            if type != .typeRegular {
                guard access(url.path, W_OK) == 0 else { throw InputError(file: path, "is not writable") }
                return
            }
        }
        let folder = url.deletingLastPathComponent()
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue
        else { throw InputError(file: path, "the folder \(folder.path) does not exist") }
        guard access(folder.path, W_OK) == 0 else {
            throw InputError(file: path, "the folder \(folder.path) is not writable")
        }
    }
}
