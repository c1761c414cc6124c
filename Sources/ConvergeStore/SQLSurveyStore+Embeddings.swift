import Foundation
import SQLKit

/// The store's statements for the embedding cache (`embeddings`, migration 7): vectors as base64 of their
/// little-endian Float32 bytes, so both SQLite and PostgreSQL keep them in a TEXT column bit for bit.
extension SQLSurveyStore {
    /// Rows per INSERT and hashes per `IN (...)`: well under SQLite's and PostgreSQL's bind limits.
    static let embeddingChunk = 200

    func recordEmbeddings(surveyID: String, model: String, vectors: [String: [Float]]) async throws {
        guard !vectors.isEmpty else {
            try await exclusive { db in try await requireSurvey(surveyID, db) }
            return
        }
        let now = Self.now()
        // Sorted: the same rows in the same order whatever the dictionary's.
        let entries = vectors.sorted { $0.key < $1.key }
        try await transaction { db in
            try await requireSurvey(surveyID, db)
            var start = 0
            while start < entries.count {
                let chunk = entries[start..<min(start + Self.embeddingChunk, entries.count)]
                var insert = db.insert(into: "embeddings")
                    .columns("survey_id", "model", "text_hash", "vector", "created_at")
                for (hash, vector) in chunk {
                    insert = insert.values([surveyID, model, hash, Self.encodeVector(vector), now] as [any Encodable & Sendable])
                }
                // Replaced when kept again: a row that could not be read (damaged) is repaired.
                try await insert.onConflict(with: ["survey_id", "model", "text_hash"]) {
                    $0.set(excludedValueOf: "vector").set(excludedValueOf: "created_at")
                }.run()
                start += Self.embeddingChunk
            }
        }
    }

    func cachedEmbeddings(model: String, hashes: [String]) async throws -> [String: [Float]] {
        let unique = Array(Set(hashes)).sorted()
        guard !unique.isEmpty else { return [:] }
        return try await exclusive { db in
            var found: [String: [Float]] = [:]
            var start = 0
            while start < unique.count {
                let chunk = Array(unique[start..<min(start + Self.embeddingChunk, unique.count)])
                let rows = try await db.select().columns("text_hash", "vector").from("embeddings")
                    .where("model", .equal, model).where("text_hash", .in, chunk).all()
                for row in rows {
                    let hash = try row.decode(column: "text_hash", as: String.self)
                    if found[hash] == nil, let vector = Self.decodeVector(try row.decode(column: "vector", as: String.self)) {
                        found[hash] = vector
                    }
                }
                start += Self.embeddingChunk
            }
            return found
        }
    }

    func embeddings(surveyID: String, model: String) async throws -> [String: [Float]] {
        try await exclusive { db in
            var found: [String: [Float]] = [:]
            let rows = try await db.select().columns("text_hash", "vector").from("embeddings")
                .where("survey_id", .equal, surveyID).where("model", .equal, model).all()
            for row in rows {
                if let vector = Self.decodeVector(try row.decode(column: "vector", as: String.self)) {
                    found[try row.decode(column: "text_hash", as: String.self)] = vector
                }
            }
            return found
        }
    }

    static func encodeVector(_ vector: [Float]) -> String {
        var bytes = Data(capacity: vector.count * 4)
        for value in vector { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        return bytes.base64EncodedString()
    }

    /// `nil` for text that is not base64 of whole, finite Float32s (a damaged row is a cache miss, not an error;
    /// the analysis encodes the text and keeps the vector again, over the row).
    static func decodeVector(_ text: String) -> [Float]? {
        guard let bytes = Data(base64Encoded: text), bytes.count % 4 == 0 else { return nil }
        let vector = stride(from: 0, to: bytes.count, by: 4).map { i in
            var bits: UInt32 = 0
            for k in 0..<4 { bits |= UInt32(bytes[bytes.startIndex + i + k]) << (8 * k) }
            return Float(bitPattern: bits)
        }
        return vector.allSatisfy(\.isFinite) ? vector : nil
    }
}
