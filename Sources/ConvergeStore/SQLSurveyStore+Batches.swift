import Foundation
import SQLKit

/// The store's statements for batches: a batch row and its items, each operation one transaction.
extension SQLSurveyStore {
    func createBatch(_ batch: StoredBatch) async throws {
        try await transaction { db in
            try await db.raw("""
                INSERT INTO batches (id, created_at, source, spec) VALUES (\(bind: batch.id), \
                \(bind: Self.millis(batch.createdAt)), \(bind: batch.source), \
                \(bind: String(decoding: batch.spec, as: UTF8.self)))
                """).run()
            for item in batch.items {
                try await db.raw("""
                    INSERT INTO batch_items (batch_id, item_index, item_id, survey_id) VALUES \
                    (\(bind: batch.id), \(bind: item.index), \(bind: item.itemID), \(bind: item.surveyID))
                    """).run()
            }
        }
    }

    func batches(limit: Int, offset: Int) async throws -> [StoredBatch] {
        try await exclusive { db in
            let rows = try await db.raw("""
                SELECT * FROM batches ORDER BY created_at DESC, id DESC \
                LIMIT \(bind: max(0, limit)) OFFSET \(bind: max(0, offset))
                """).all()
            var batches: [StoredBatch] = []
            for row in rows { batches.append(try await Self.batch(from: row, db)) }
            return batches
        }
    }

    func batch(id: String) async throws -> StoredBatch {
        try await exclusive { db in
            if let row = try await db.raw("SELECT * FROM batches WHERE id = \(bind: id)").first() {
                return try await Self.batch(from: row, db)
            }
            // A unique prefix of at least 4 letters or digits, as for surveys.
            let cleaned = id.lowercased()
            guard cleaned.count >= 4, cleaned.allSatisfy({ $0.isLetter || $0.isNumber }) else {
                throw StoreError.batchNotFound(id)
            }
            let rows = try await db.raw("""
                SELECT * FROM batches WHERE id LIKE \(bind: cleaned + "%") ORDER BY id LIMIT 6
                """).all()
            switch rows.count {
            case 0: throw StoreError.batchNotFound(id)
            case 1: return try await Self.batch(from: rows[0], db)
            default: throw StoreError.ambiguous(id, matches: try rows.map { try $0.decode(column: "id", as: String.self) })
            }
        }
    }

    func deleteBatch(id: String) async throws {
        try await transaction { db in
            guard try await db.raw("SELECT id FROM batches WHERE id = \(bind: id)").first() != nil else {
                throw StoreError.batchNotFound(id)
            }
            // Items first, explicitly: SQLite enforces ON DELETE CASCADE only with foreign_keys on.
            try await db.raw("DELETE FROM batch_items WHERE batch_id = \(bind: id)").run()
            try await db.raw("DELETE FROM batches WHERE id = \(bind: id)").run()
        }
    }

    private static func batch(from row: any SQLRow, _ db: any SQLDatabase) async throws -> StoredBatch {
        let id = try row.decode(column: "id", as: String.self)
        let items = try await db.raw("""
            SELECT * FROM batch_items WHERE batch_id = \(bind: id) ORDER BY item_index
            """).all().map { item in
            StoredBatch.Item(index: try item.decode(column: "item_index", as: Int.self),
                             itemID: try item.decode(column: "item_id", as: String.self),
                             surveyID: try item.decode(column: "survey_id", as: String.self))
        }
        return StoredBatch(id: id, createdAt: date(try row.decode(column: "created_at", as: Int.self)),
                           source: try row.decode(column: "source", as: String.self),
                           spec: Data(try row.decode(column: "spec", as: String.self).utf8), items: items)
    }
}
