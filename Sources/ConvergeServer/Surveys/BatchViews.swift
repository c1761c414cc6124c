import ConvergeCore
import ConvergeReport
import ConvergeRunner
import ConvergeStore
import Foundation

/// Stored batches as the API's values (openapi.yaml: `BatchSummary`, `BatchDetail`, `BatchProgress`). Pure functions
/// of what the store holds.
enum BatchViews {
    /// The `source` of a batch made through `POST /v1/batches`.
    static let apiSource = "api"

    static func links(_ id: String) -> Components.Schemas.BatchLinks {
        .init(batch: "/v1/batches/\(id)", report: "/v1/batches/\(id)/report", page: "/batches/\(id)")
    }

    /// How many surveys are in each state; `nil` is a survey deleted on its own.
    static func progress(_ statuses: [SurveyStatus?]) -> Components.Schemas.BatchProgress {
        func count(_ status: SurveyStatus) -> Int { statuses.filter { $0 == status }.count }
        return .init(surveys: statuses.count, running: count(.running), complete: count(.complete),
                     partial: count(.partial), failed: count(.failed), interrupted: count(.interrupted),
                     deleted: statuses.filter { $0 == nil }.count)
    }

    /// `running` while any survey is, then `interrupted` when any is; `complete` or `failed` when every survey
    /// left is; else `partial`.
    static func status(_ statuses: [SurveyStatus?]) -> Components.Schemas.BatchStatus {
        let present = statuses.compactMap { $0 }
        if present.contains(.running) { return .running }
        if present.contains(.interrupted) { return .interrupted }
        if !present.isEmpty && present.allSatisfy({ $0 == .complete }) { return .complete }
        if !present.isEmpty && present.allSatisfy({ $0 == .failed }) { return .failed }
        return .partial
    }

    static func summary(_ batch: StoredBatch, statuses: [String: SurveyStatus]) -> Components.Schemas.BatchSummary {
        let each = batch.items.map { statuses[$0.surveyID] }
        return .init(id: batch.id, status: status(each), source: batch.source, createdAt: batch.createdAt,
                     prompts: batch.items.count, progress: progress(each), links: links(batch.id))
    }

    /// Every item in batch order, with its survey's status and how many of its requests are answered.
    static func detail(_ batch: StoredBatch, surveys: [String: SurveyArchive.Loaded]) -> Components.Schemas.BatchDetail {
        let each = batch.items.map { surveys[$0.surveyID]?.record.status }
        let items = batch.items.map { item -> Components.Schemas.BatchItem in
            guard let loaded = surveys[item.surveyID] else {
                return .init(index: item.index, id: item.itemID, survey: item.surveyID, status: .deleted,
                             links: SurveyViews.links(item.surveyID))
            }
            let status = Components.Schemas.BatchItem.StatusPayload(rawValue: loaded.record.status.rawValue) ?? .failed
            return .init(index: item.index, id: item.itemID, survey: item.surveyID, status: status,
                         prompt: loaded.record.prompt,
                         answered: loaded.requests.filter { $0.state == .answered }.count,
                         requests: loaded.turns.count * loaded.spec.panel.count * max(1, loaded.spec.samples),
                         links: SurveyViews.links(item.surveyID))
        }
        return .init(id: batch.id, status: status(each), source: batch.source, createdAt: batch.createdAt,
                     prompts: batch.items.count, progress: progress(each), items: items, links: links(batch.id))
    }
}

extension SurveyService {
    /// A stored batch by its exact id.
    /// - Throws: `APIError` 404 for an unknown id (a prefix is not enough here), 503 when the store fails.
    nonisolated func loadBatch(_ id: String) async throws(APIError) -> StoredBatch {
        // Ids are 12 characters of lowercase base 32: anything else is unknown without asking the database.
        guard id.utf8.count == 12, id.utf8.allSatisfy({ (48...57).contains($0) || (97...122).contains($0) }) else {
            throw APIError.notFound("no batch with this id")
        }
        do {
            let batch = try await store.batch(id: id)
            guard batch.id == id else { throw APIError.notFound("no batch with this id") }
            return batch
        } catch let error as APIError {
            throw error
        } catch StoreError.batchNotFound {
            throw APIError.notFound("no batch with this id")
        } catch {
            throw APIError.store(error, logger: logger)
        }
    }

    /// Each item's survey status (a survey deleted on its own is missing).
    nonisolated func statuses(_ batch: StoredBatch) async throws(APIError) -> [String: SurveyStatus] {
        var statuses: [String: SurveyStatus] = [:]
        for item in batch.items {
            do {
                statuses[item.surveyID] = try await store.survey(id: item.surveyID).status
            } catch StoreError.notFound {
                continue
            } catch {
                throw APIError.store(error, logger: logger)
            }
        }
        return statuses
    }

    /// The batch report of `batch` over its surveys' newest reports, priced from the config file's `prices`.
    nonisolated func batchReport(_ batch: StoredBatch) async throws(APIError) -> BatchReport {
        let archive = SurveyArchive(store: store)
        var entries: [BatchReport.Entry] = []
        do {
            for item in batch.items {
                let report: Report?
                do {
                    report = try await archive.latestReport(item.surveyID)
                } catch StoreError.notFound {
                    report = nil
                }
                entries.append(BatchReport.Entry(itemID: item.itemID, surveyID: item.surveyID, report: report))
            }
        } catch {
            throw APIError.store(error, logger: logger)
        }
        let prices = config.prices.mapValues {
            BatchReport.Price(inputPerMillion: $0.inputPerMillion, outputPerMillion: $0.outputPerMillion)
        }
        return BatchReport(batch: batch.id, entries: entries, prices: prices)
    }
}
