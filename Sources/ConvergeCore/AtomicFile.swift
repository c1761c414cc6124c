import Foundation

/// Writes files so that readers never see a partial one: the bytes go to a temporary file in the same folder,
/// which is then renamed over the target (rename(2) is atomic within one file system).
public enum AtomicFile {
    /// - Throws: `InputError` naming the path when the folder does not exist or is not writable; on failure
    ///   the target is left as it was and the temporary file is removed.
    public static func write(_ text: String, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent()
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory), isDirectory.boolValue
        else { throw InputError(file: path, "the folder \(folder.path) does not exist") }
        let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        do {
            try Data(text.utf8).write(to: temporary)
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
}
