import ConvergeCore
import ConvergeMCP
import ConvergeReport
import Foundation
import OpenAPIRuntime

/// What the handlers need, built once and passed to `buildApplication`.
package struct ServerDependencies: Sendable {
    package var analyses: AnalysisService
    package var metrics: ServerMetrics
    /// The stored surveys and their background runs; `nil`: the survey operations answer 503.
    package var surveys: SurveyService?
    /// The MCP sessions of `/mcp` (streamable HTTP); `nil`: no `/mcp` route.
    package var mcp: MCPHTTPSessions?

    package init(analyses: AnalysisService = AnalysisService(), metrics: ServerMetrics = .shared,
                surveys: SurveyService? = nil, mcp: MCPHTTPSessions? = nil) {
        self.analyses = analyses
        self.metrics = metrics
        self.surveys = surveys
        self.mcp = mcp
    }
}

/// The API's operations (openapi.yaml), implementing the generated `APIProtocol`. Errors are thrown as
/// `APIError` and answered by `ErrorMiddleware`.
struct APIHandler: APIProtocol {
    let dependencies: ServerDependencies
    let version: String

    func createAnalysis(_ input: Operations.CreateAnalysis.Input) async throws -> Operations.CreateAnalysis.Output {
        guard case .json(let request) = input.body else {
            throw APIError(.unsupportedMediaType, code: .unsupportedMediaType, "the request body must be application/json")
        }
        let format = try ReportNegotiation.format(query: input.query.format, accept: input.headers.accept)
        let job = try AnalysisJob(request)
        let similarity = try dependencies.analyses.similarity(for: job)
        let judge = try dependencies.analyses.judge(for: job)
        let clock = ContinuousClock()
        let start = clock.now
        let report = await dependencies.analyses.analyze(job, similarity: similarity, judge: judge,
                                                         attachingAnswers: format == .html)
        dependencies.metrics.recordAnalysis(format: format.rawValue, duration: clock.now - start)
        return .ok(.init(body: ReportNegotiation.body(report, format: format)))
    }

    func getHealth(_ input: Operations.GetHealth.Input) async throws -> Operations.GetHealth.Output {
        .ok(.init(body: .json(.init(status: .ok, version: version))))
    }

    func getMetrics(_ input: Operations.GetMetrics.Input) async throws -> Operations.GetMetrics.Output {
        .ok(.init(body: .plainText(HTTPBody(dependencies.metrics.exposition()))))
    }

    func getOpenAPIDocument(_ input: Operations.GetOpenAPIDocument.Input) async throws -> Operations.GetOpenAPIDocument.Output {
        .ok(.init(body: .yaml(HTTPBody(ConvergeAPISpec.yaml))))
    }
}

/// Chooses a report's format and builds the response body.
///
/// The `format` query parameter wins; else the `Accept` header's most preferred type that a format has
/// (`*/*` and `application/*` mean JSON, `text/*` Markdown); else JSON. Adding a format to `ReportFormat` and
/// openapi.yaml adds one case to `body(_:format:)`.
enum ReportNegotiation {
    static func format(query: Components.Schemas.ReportFormat?,
                       accept: [AcceptHeaderContentType<Operations.CreateAnalysis.AcceptableContentType>]) throws(APIError)
        -> ReportFormat
    {
        if let query {
            guard let format = ReportFormat(rawValue: query.rawValue) else {
                throw .invalidField("format", "unknown format \(query.rawValue)")
            }
            return format
        }
        if accept.isEmpty { return .json }
        for entry in accept.sortedByQuality() where entry.quality.doubleValue > 0 {
            switch entry.contentType {
            case .json: return .json
            case .textMarkdown: return .md
            case .csv: return .csv
            case .html: return .html
            case .other(let type):
                switch type.lowercased() {
                case "*/*", "application/*": return .json
                case "text/*": return .md
                default: continue
                }
            }
        }
        throw APIError(.notAcceptable, code: .notAcceptable,
                       "the Accept header allows none of application/json, text/markdown, text/csv, text/html")
    }

    /// The report as openapi.yaml's shared `Report` response (`POST /v1/analyses` and a survey's report).
    static func body(_ report: Report, format: ReportFormat) -> Components.Responses.Report.Body {
        switch format {
        case .json: .json(report)
        case .md: .textMarkdown(HTTPBody(ReportRenderer.render(report, format: .md)))
        case .csv: .csv(HTTPBody(ReportRenderer.render(report, format: .csv)))
        case .html: .html(HTTPBody(ReportRenderer.render(report, format: .html)))
        }
    }
}
