import ConvergeCore
import ConvergeReport
import ConvergeRunner
import Foundation
import OpenAPIRuntime

/// The survey operations (openapi.yaml, tag `surveys`), over ``SurveyService``.
extension APIHandler {
    var surveys: SurveyService {
        get throws(APIError) {
            guard let surveys = dependencies.surveys else { throw APIError.noStore }
            return surveys
        }
    }

    func createSurvey(_ input: Operations.CreateSurvey.Input) async throws -> Operations.CreateSurvey.Output {
        guard case .json(let request) = input.body else {
            throw APIError(.unsupportedMediaType, code: .unsupportedMediaType, "the request body must be application/json")
        }
        let service = try surveys
        // A matching this server cannot make (no embedding model) is a 422 naming `similarity`, before anything is
        // stored or asked.
        if let similarity = request.similarity { _ = try dependencies.analyses.similarity(named: similarity.rawValue) }
        let plan = try await SurveyPlan.planned(request, directory: service.directory, config: service.config)
        let id = try await service.create(plan)
        return .accepted(.init(headers: .init(location: SurveyViews.links(id).survey),
                               body: .json(.init(id: id, status: .running, links: SurveyViews.links(id)))))
    }

    func listSurveys(_ input: Operations.ListSurveys.Input) async throws -> Operations.ListSurveys.Output {
        let (limit, offset) = try Self.page(limit: input.query.limit, offset: input.query.offset)
        let service = try surveys
        do {
            let page = try await service.store.surveys(limit: limit, offset: offset)
            return .ok(.init(body: .json(.init(surveys: page.map(SurveyViews.summary), limit: limit, offset: offset))))
        } catch {
            throw APIError.store(error, logger: service.logger)
        }
    }

    func getSurvey(_ input: Operations.GetSurvey.Input) async throws -> Operations.GetSurvey.Output {
        let loaded = try await surveys.load(input.path.id)
        return .ok(.init(body: .json(SurveyViews.detail(loaded))))
    }

    func deleteSurvey(_ input: Operations.DeleteSurvey.Input) async throws -> Operations.DeleteSurvey.Output {
        try await surveys.delete(input.path.id)
        return .noContent(.init())
    }

    func getSurveyReport(_ input: Operations.GetSurveyReport.Input) async throws -> Operations.GetSurveyReport.Output {
        let format = ReportFormat(rawValue: input.query.format?.rawValue ?? "json") ?? .json
        let report = try await surveys.report(input.path.id)
        return .ok(.init(body: ReportNegotiation.body(report, format: format)))
    }

    func createFollowUp(_ input: Operations.CreateFollowUp.Input) async throws -> Operations.CreateFollowUp.Output {
        guard case .json(let request) = input.body else {
            throw APIError(.unsupportedMediaType, code: .unsupportedMediaType, "the request body must be application/json")
        }
        let service = try surveys
        try SurveyPlan.checkPrompt(request.prompt, at: "prompt")
        let id = input.path.id
        try await service.followUp(id, prompt: request.prompt)
        return .accepted(.init(headers: .init(location: SurveyViews.links(id).survey),
                               body: .json(.init(id: id, status: .running, links: SurveyViews.links(id)))))
    }

    /// `state` first, then the live events until `complete` (``SurveyEventStream``).
    func getSurveyEvents(_ input: Operations.GetSurveyEvents.Input) async throws -> Operations.GetSurveyEvents.Output {
        let stream = try await SurveyEventStream.make(service: try surveys, id: input.path.id)
        return .ok(.init(body: .textEventStream(HTTPBody(stream, length: .unknown, iterationBehavior: .single))))
    }
}

extension APIHandler {
    /// A list's page: `limit` (default 20) from 1 to 100, `offset` (default 0) from 0 to 1,000,000.
    /// - Throws: `APIError.invalidField` naming `limit` or `offset`.
    static func page(limit: Int?, offset: Int?) throws(APIError) -> (limit: Int, offset: Int) {
        let limit = limit ?? 20, offset = offset ?? 0
        guard (1...100).contains(limit) else { throw APIError.invalidField("limit", "must be from 1 to 100") }
        guard (0...1_000_000).contains(offset) else { throw APIError.invalidField("offset", "must be from 0 to 1000000") }
        return (limit, offset)
    }
}
