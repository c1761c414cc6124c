import ConvergeCore
import ConvergeReport
import ConvergeRunner
import ConvergeStore
import Foundation
import HTTPTypes
import Hummingbird

/// The batch pages: `/batches/{id}` (how far each prompt's survey is, and, for surveys queued for
/// `converge worker`, how many of their threads are done; reloaded every 5 s while any is running) and
/// `/batches/{id}/report` (the batch report as HTML, each prompt linking to its survey's report).
extension Pages {
    func registerBatchPages(on routes: RouteRegistry<Context>) {
        routes.on("/batches/:id", method: .get) { _, context in
            try await showingErrors { try await batchPage(try context.parameters.require("id")) }
        }
        routes.on("/batches/:id/report", method: .get) { _, context in
            try await showingErrors { try await batchReport(try context.parameters.require("id")) }
        }
    }

    /// A stored batch by its exact id.
    /// - Throws: `APIError` 404 for an unknown id, 503 when the store fails.
    func loadBatch(_ id: String) async throws -> (service: SurveyService, batch: StoredBatch) {
        let service = try surveyService()
        guard id.utf8.count == 12, id.utf8.allSatisfy({ (48...57).contains($0) || (97...122).contains($0) }) else {
            throw APIError.notFound("no batch with this id")
        }
        do {
            let batch = try await service.store.batch(id: id)
            guard batch.id == id else { throw APIError.notFound("no batch with this id") }
            return (service, batch)
        } catch let error as APIError {
            throw error
        } catch StoreError.batchNotFound {
            throw APIError.notFound("no batch with this id")
        } catch {
            throw APIError.store(error, logger: service.logger)
        }
    }

    func batchPage(_ id: String) async throws -> Response {
        let (service, batch) = try await loadBatch(id)
        var statuses: [String: SurveyStatus] = [:]
        for item in batch.items { statuses[item.surveyID] = (try? await service.store.survey(id: item.surveyID))?.status }
        var threads: [String: (done: Int, total: Int)] = [:]
        if let queue = try? workQueue(service.store),
           let jobs = try? await queue.jobs(surveyIDs: batch.items.map(\.surveyID)) {
            for job in jobs {
                threads[job.job.surveyID, default: (0, 0)].total += 1
                if job.state == .done { threads[job.job.surveyID, default: (0, 0)].done += 1 }
            }
        }
        let complete = batch.items.filter { statuses[$0.surveyID] == .complete }.count
        let running = batch.items.contains { statuses[$0.surveyID] == .running }
        var html = """
            <section id="batch">
            <h2>Batch <code>\(HTML.escape(id))</code></h2>
            <p>\(batch.items.count) prompt\(batch.items.count == 1 ? "" : "s"): \(complete) complete \
            · from <code>\(HTML.escape(batch.source))</code> \
            · created <time datetime="\(Self.iso(batch.createdAt))">\(Self.iso(batch.createdAt))</time></p>
            <p><a href="/batches/\(HTML.escape(id))/report">The batch report</a> (the surveys answered so far)</p>
            <table class="items"><thead><tr><th>prompt</th><th>survey</th><th>status</th><th>threads done</th></tr></thead>
            <tbody>

            """
        for item in batch.items {
            let status = statuses[item.surveyID]?.rawValue ?? "deleted"
            let done = threads[item.surveyID].map { "\($0.done)/\($0.total)" } ?? ""
            html += "<tr><td>\(HTML.escape(item.itemID))</td><td><a href=\"/surveys/\(HTML.escape(item.surveyID))\">"
                + "<code>\(HTML.escape(item.surveyID))</code></a></td><td class=\"status\" data-status=\"\(status)\">\(status)</td>"
                + "<td>\(done)</td></tr>\n"
        }
        html += "</tbody></table>\n</section>\n"
        var response = page(title: "Batch \(id)", body: html, script: false)
        if running, let refresh = HTTPField.Name("Refresh") { response.headers[refresh] = "5" }
        return response
    }

    func batchReport(_ id: String) async throws -> Response {
        let (service, batch) = try await loadBatch(id)
        let archive = SurveyArchive(store: service.store)
        var entries: [BatchReport.Entry] = []
        for item in batch.items {
            entries.append(BatchReport.Entry(itemID: item.itemID, surveyID: item.surveyID,
                                             report: try? await archive.latestReport(item.surveyID)))
        }
        let prices = service.config.prices.mapValues {
            BatchReport.Price(inputPerMillion: $0.inputPerMillion, outputPerMillion: $0.outputPerMillion)
        }
        let report = BatchReport(batch: batch.id, entries: entries, prices: prices)
        let html = BatchReportRenderer.render(report, format: .html) { "/surveys/\($0.survey)/report" }
        return Response(status: .ok, headers: Self.reportHeaders, body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
