import ConvergeStore
import ConvergeTestSupport
import Foundation
import Testing

/// The two databases every store test runs on.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres
    var testDescription: String { rawValue }

    /// A fresh, empty database of this kind: a new SQLite file, or a new database in the shared test cluster.
    func freshURL() throws -> DatabaseURL {
        switch self {
        case .sqlite:
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("converge-store-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            return .sqlite(path: folder.appendingPathComponent("converge.sqlite").path)
        case .postgres:
            let cluster = try PostgresTestCluster.shared()
            let name = "t_" + UUID().uuidString.prefix(8).lowercased()
            try cluster.createDatabase(name)
            return try DatabaseURL(parsing: cluster.url(database: name))
        }
    }
}

func sampleSurvey(id: String = StoredSurvey.newID(), prompt: String = "What makes a senior engineer?",
                  createdAt: Date = Date()) -> StoredSurvey {
    StoredSurvey(id: id, createdAt: createdAt, prompt: prompt, panelSize: 2,
                 spec: Data(#"{"panel":["openai/a","openai/b"]}"#.utf8))
}

let sampleRequest = Data(#"{"model":"a","messages":[{"role":"user","content":"hi"}]}"#.utf8)
