import ConvergeReport
import ConvergeRunner
import ConvergeStore
import Foundation
import OpenAPIRuntime

/// The batch operations (openapi.yaml, tag `batches`), over ``SurveyService``.
extension APIHandler {
    func createBatch(_ input: Operations.CreateBatch.Input) async throws -> Operations.CreateBatch.Output {
        guard case .json(let request) = input.body else {
            throw APIError(.unsupportedMediaType, code: .unsupportedMediaType, "the request body must be application/json")
        }
        let service = try surveys
        let plans = try BatchPlanning.plans(request, directory: service.directory, config: service.config)
        let batch = try await service.createBatch(plans)
        let links = BatchViews.links(batch.id)
        return .accepted(.init(headers: .init(location: links.batch),
                               body: .json(.init(id: batch.id, status: .running, prompts: batch.items.count, links: links))))
    }

    func listBatches(_ input: Operations.ListBatches.Input) async throws -> Operations.ListBatches.Output {
        let (limit, offset) = try Self.page(limit: input.query.limit, offset: input.query.offset)
        let service = try surveys
        let page: [StoredBatch]
        do {
            page = try await service.store.batches(limit: limit, offset: offset)
        } catch {
            throw APIError.store(error, logger: service.logger)
        }
        var summaries: [Components.Schemas.BatchSummary] = []
        for batch in page { summaries.append(BatchViews.summary(batch, statuses: try await service.statuses(batch))) }
        return .ok(.init(body: .json(.init(batches: summaries, limit: limit, offset: offset))))
    }

    func getBatch(_ input: Operations.GetBatch.Input) async throws -> Operations.GetBatch.Output {
        let service = try surveys
        let batch = try await service.loadBatch(input.path.id)
        var loaded: [String: SurveyArchive.Loaded] = [:]
        for item in batch.items {
            // A survey deleted on its own is shown as `deleted`.
            if let survey = try await Self.loadUnlessDeleted(item.surveyID, service: service) { loaded[item.surveyID] = survey }
        }
        return .ok(.init(body: .json(BatchViews.detail(batch, surveys: loaded))))
    }

    func getBatchReport(_ input: Operations.GetBatchReport.Input) async throws -> Operations.GetBatchReport.Output {
        let service = try surveys
        let format = ReportFormat(rawValue: input.query.format?.rawValue ?? "json") ?? .json
        let report = try await service.batchReport(try await service.loadBatch(input.path.id))
        return .ok(.init(body: Self.body(report, format: format)))
    }

    static func body(_ report: BatchReport, format: ReportFormat) -> Operations.GetBatchReport.Output.Ok.Body {
        switch format {
        case .json:
            return .json(report)
        case .md:
            let text = BatchReportRenderer.render(report, format: .md, link: markdownLink)
            return .textMarkdown(HTTPBody(text))
        case .csv:
            return .csv(HTTPBody(BatchReportRenderer.render(report, format: .csv)))
        case .html:
            let text = BatchReportRenderer.render(report, format: .html, link: pageLink)
            return .html(HTTPBody(text))
        }
    }

    /// Each prompt's survey report: the API's Markdown, or the site's HTML report.
    private static func markdownLink(_ item: BatchReport.Item) -> String { "/v1/surveys/\(item.survey)/report?format=md" }
    private static func pageLink(_ item: BatchReport.Item) -> String { "/surveys/\(item.survey)/report" }

    private static func loadUnlessDeleted(_ id: String, service: SurveyService) async throws(APIError) -> SurveyArchive.Loaded? {
        do {
            return try await service.load(id)
        } catch {
            if error.status == .notFound { return nil }
            throw error
        }
    }
}
