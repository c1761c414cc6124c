import Synchronization

/// A sentence encoder in front of another, answering from vectors already computed: the survey store's
/// embedding cache fills `known` before an analysis and keeps `vectors` after it.
///
/// Vectors are looked up under `key(text)` (the store uses a SHA-256 of the encoder's `cacheIdentity` and the
/// text); texts not found are encoded by `base` in one call, in input order, and kept for later calls. A cached
/// vector is returned bit for bit as it was stored: an analysis wholly from the cache repeats the one that filled
/// it exactly. One that encodes some texts can differ from a fresh analysis in the last bits of those vectors
/// (an encoder's rounding may depend on a text's batch mates), far below any threshold's resolution.
public final class CachingSentenceEncoder: SentenceEncoder {
    public let base: any SentenceEncoder
    public let key: @Sendable (String) -> String
    private struct State {
        var vectors: [String: [Float]]
        var encodedCount = 0
        var encodeCalls = 0
    }
    private let state: Mutex<State>

    /// - Parameters:
    ///   - known: vectors by key, each of `base.dimension` finite floats (others are ignored and encoded again).
    public init(base: any SentenceEncoder, known: [String: [Float]] = [:], key: @escaping @Sendable (String) -> String) {
        self.base = base
        self.key = key
        let dimension = base.dimension
        state = Mutex(State(vectors: known.filter { $0.value.count == dimension && $0.value.allSatisfy(\.isFinite) }))
    }

    public var modelName: String { base.modelName }
    public var dimension: Int { base.dimension }
    public var cacheIdentity: String { base.cacheIdentity }

    /// Texts `base` was asked to encode so far (the misses), and in how many calls.
    public var encodedCount: Int { state.withLock { $0.encodedCount } }
    public var encodeCalls: Int { state.withLock { $0.encodeCalls } }

    /// Every vector known now, by key: those given at init and those encoded since.
    public var vectors: [String: [Float]] { state.withLock { $0.vectors } }

    public func encode(_ texts: [String]) -> [[Float]] { encode(texts, context: nil) }

    /// A text read in a context is kept under `key` of the context, a unit separator and the text, so that it
    /// never stands in for the same text read alone or in another context.
    public func encode(_ texts: [String], context: String?) -> [[Float]] {
        let prefix = context.map { "\($0)\u{1F}" } ?? ""
        let keys = texts.map { key(prefix + $0) }
        let known = state.withLock { s in keys.map { s.vectors[$0] } }
        var missing: [Int] = []
        var seen: Set<String> = []
        for (i, vector) in known.enumerated() where vector == nil && seen.insert(keys[i]).inserted { missing.append(i) }
        guard !missing.isEmpty else { return known.map { $0! } }
        // Encoded outside the lock: two analyses sharing this cache may encode the same text twice, never wait.
        let fresh = base.encode(missing.map { texts[$0] }, context: context)
        return state.withLock { s in
            for (n, i) in missing.enumerated() { s.vectors[keys[i]] = fresh[n] }
            s.encodedCount += missing.count
            s.encodeCalls += 1
            return keys.map { s.vectors[$0]! }
        }
    }
}
