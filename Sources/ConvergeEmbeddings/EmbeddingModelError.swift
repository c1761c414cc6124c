/// Why a sentence-embedding model could not be found, installed or loaded. Each case names the file and what
/// is wrong with it, so that a missing or damaged model gives a clear message rather than a crash.
public enum EmbeddingModelError: Error, CustomStringConvertible, Equatable {
    /// No installed model: where it was looked for, and how to install it.
    case notInstalled(model: String, searched: [String])
    /// A file the model needs is missing.
    case missingFile(path: String)
    /// A file exists but cannot be used: which file, and what is wrong.
    case damaged(path: String, reason: String)
    /// An install source that is neither a model folder, a model.zip nor a wheel holding one.
    case badSource(path: String, reason: String)
    /// The data directory cannot take the model: the path, and why (not a folder, not writable, ...).
    case cannotWrite(path: String, reason: String)

    /// What is wrong, without advice on how to repair it (for an install from `--from`, where reinstalling
    /// the default download would be the wrong advice).
    public var problem: String {
        switch self {
        case let .missingFile(path): return "\(path): missing"
        case let .damaged(path, reason): return "\(path): \(reason)"
        default: return description
        }
    }

    public var description: String {
        switch self {
        case let .notInstalled(model, searched):
            return "the embedding model \(model) is not installed (looked in \(searched.joined(separator: ", "))); "
                + "install it with `converge models install minilm`"
        case let .missingFile(path):
            return "\(path): missing (the embedding model is incomplete; reinstall it with "
                + "`converge models install minilm`, or analyse with `--similarity lexical`)"
        case let .damaged(path, reason):
            return "\(path): \(reason) (reinstall the model with `converge models install minilm`)"
        case let .badSource(path, reason):
            return "\(path): \(reason)"
        case let .cannotWrite(path, reason):
            return "\(path): cannot install the model here (\(reason)); set XDG_DATA_HOME to a writable folder"
        }
    }
}
