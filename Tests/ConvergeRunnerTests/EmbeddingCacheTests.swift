import ConvergeAnalysis
import ConvergeCore
import ConvergeEmbeddings
import ConvergeRunner
import ConvergeStore
import Foundation
import Synchronization
import Testing

/// The installed all-MiniLM-L6-v2 (scripts/test installs it); on CI (`CI=true`) the tests run and fail without it.
enum InstalledMiniLM {
    static let directory: String? = {
        if let dir = ProcessInfo.processInfo.environment["CONVERGE_MINILM_DIR"], !dir.isEmpty { return dir }
        return ModelStore().locate()
    }()
    static let available = directory != nil || ProcessInfo.processInfo.environment["CI"] == "true"
}

/// Counts the texts a real encoder is asked to encode.
final class CountingEncoder: SentenceEncoder {
    let base: SentenceEmbeddingModel
    private let count = Mutex(0)
    init(_ base: SentenceEmbeddingModel) { self.base = base }
    var modelName: String { base.modelName }
    var dimension: Int { base.dimension }
    var cacheIdentity: String { base.cacheIdentity }
    var encoded: Int { count.withLock { $0 } }
    func encode(_ texts: [String]) -> [[Float]] {
        count.withLock { $0 += texts.count }
        return base.encode(texts)
    }
}

/// The survey store's embedding cache with the real model on a real SQLite file: a survey analysed again
/// encodes nothing, and gets the same report.
@Suite(.serialized, .enabled(if: InstalledMiniLM.available, "all-MiniLM-L6-v2 is not installed (scripts/test installs it)"))
struct EmbeddingCacheTests {
    let input: AnalysisInput
    let counting: CountingEncoder

    /// A fresh SQLite file; the test closes it.
    static func openArchive() async throws -> SurveyArchive {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("converge-embcache-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return SurveyArchive(store: try await openStore(.sqlite(path: folder.appendingPathComponent("converge.sqlite").path)))
    }

    init() throws {
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/senior-backend")
        input = try SurveyFolder.load(paths: [example.path])
        counting = CountingEncoder(try SentenceEmbeddingModel(directory: try #require(InstalledMiniLM.directory)))
    }

    /// A stored survey holding `input`'s answers, as `ask` would leave it.
    func storedSurvey(_ archive: SurveyArchive) async throws -> String {
        let store = archive.store
        let panel = input.answers.map { SurveySpec.Member(id: $0.panelist.id, label: $0.panelist.label, model: "imported/x") }
        let id = try await archive.create(Survey(prompt: input.prompt ?? "?"), spec: SurveySpec(panel: panel))
        for answer in input.answers {
            try await store.recordAnswer(surveyID: id, key: StoredRequestKey(turn: 0, panelistID: answer.panelist.id, sample: 0),
                                         cacheKey: "k-\(id)-\(answer.panelist.id)", request: Data("{}".utf8),
                                         response: StoredResponse(text: answer.text, latencyMs: 10), attempts: 1, fromCache: false)
        }
        return id
    }

    func analyse(_ id: String, rubric: Rubric?, _ archive: SurveyArchive) async throws -> Report {
        let result = SurveyArchive.result(of: try await archive.load(id))
        return try await archive.finish(id, result: result, rubric: rubric,
                                        analyzer: Analyzer(similarity: EmbeddingSimilarity(encoder: counting)))
    }

    @Test func aSecondAnalysisEncodesNothingAndReportsTheSame() async throws {
        let archive = try await Self.openArchive(), store = archive.store
        let id = try await storedSurvey(archive)
        let first = try await analyse(id, rubric: input.rubric, archive)
        let texts = Set(Analyzer.encodedTexts(for: input)).count
        #expect(counting.encoded == texts, "each distinct text once")
        #expect(first.analysis?.similarity == "embedding")
        #expect(!first.keyPoints.isEmpty)

        let second = try await analyse(id, rubric: input.rubric, archive)
        #expect(counting.encoded == texts, "the second analysis encodes nothing")
        #expect(second == first)

        // Another rubric: only its items are new.
        let other = try Rubric(yaml: """
            title: Other
            categories:
              - name: New
                items:
                  - id: docs
                    text: Writes design documents before building
            """, file: "other.yaml")
        _ = try await analyse(id, rubric: other, archive)
        #expect(counting.encoded == texts + 1)

        // Another survey over the same answers reads the first one's vectors, and keeps its own copy.
        let copy = try await storedSurvey(archive)
        let again = try await analyse(copy, rubric: input.rubric, archive)
        #expect(counting.encoded == texts + 1)
        #expect(again.keyPoints == first.keyPoints)
        try await store.deleteSurvey(id: id)
        _ = try await analyse(copy, rubric: input.rubric, archive)
        #expect(counting.encoded == texts + 1, "deleting the first survey leaves the copy's vectors")
        #expect(try await store.embeddings(surveyID: copy, model: counting.cacheIdentity).count == texts)
        await store.close()
    }

    @Test func lexicalMatchingKeepsNoVectors() async throws {
        let archive = try await Self.openArchive(), store = archive.store
        let id = try await storedSurvey(archive)
        let result = SurveyArchive.result(of: try await archive.load(id))
        _ = try await archive.finish(id, result: result, rubric: nil, analyzer: Analyzer())
        #expect(try await store.cachedEmbeddings(model: counting.cacheIdentity,
                                                 hashes: Analyzer.encodedTexts(for: input).map {
                                                     StoreEmbeddingCache.key(identity: counting.cacheIdentity, text: $0)
                                                 }).isEmpty)
        await store.close()
    }

    @Test func theIdentityNamesModelWeightsAndArithmetic() throws {
        let identity = counting.cacheIdentity
        #expect(identity.hasPrefix("all-MiniLM-L6-v2 "))
        #expect(identity.contains("len256"))
        // The arithmetic of the default precision (CONVERGE_ENCODER_PRECISION; bf16 where the CPU has AVX512-BF16).
        #expect(identity.contains(EncoderPrecision.shared.kind == .bf16 ? BertEncoder.bf16ArithmeticVersion
                                  : BertEncoder.arithmeticVersion))
        #expect(identity.hasSuffix(" cblas") || identity.hasSuffix(" native"))
        let native = try SentenceEmbeddingModel(directory: try #require(InstalledMiniLM.directory), kernel: .native())
        #expect(native.cacheIdentity.hasSuffix(" native"))
        #expect(native.cacheIdentity.dropLast(" native".count) == identity.split(separator: " ").dropLast().joined(separator: " "))
    }
}
