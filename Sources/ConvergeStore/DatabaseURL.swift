import Foundation

/// Where surveys are kept (README.md, "Keep every survey"): `sqlite:PATH` or `postgres://USER:PASSWORD@HOST:PORT/DB`.
///
/// The password is kept only to connect; ``description`` never shows it.
public enum DatabaseURL: Sendable, Hashable, CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresLocation)

    /// PostgreSQL connection settings parsed from a URL.
    public struct PostgresLocation: Sendable, Hashable {
        public var host: String
        public var port: Int
        public var user: String
        public var password: String?
        public var database: String
        /// `disable` (default on loopback), `prefer` (default elsewhere) or `require` (`?sslmode=`).
        public var sslMode: String
    }

    /// Parses `sqlite:PATH`, `sqlite://PATH`, `postgres://...` or `postgresql://...`.
    ///
    /// - Throws: ``StoreError/invalidURL(_:reason:)`` naming what is wrong (the password is never echoed).
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("sqlite:") {
            var path = String(trimmed.dropFirst("sqlite:".count))
            if path.hasPrefix("//") { path = String(path.dropFirst(2)) }
            guard !path.isEmpty else { throw StoreError.invalidURL("sqlite:", reason: "the file path is missing") }
            self = .sqlite(path: (path as NSString).expandingTildeInPath)
            return
        }
        guard trimmed.hasPrefix("postgres://") || trimmed.hasPrefix("postgresql://") else {
            throw StoreError.invalidURL(Self.redact(trimmed), reason: "unknown scheme")
        }
        guard let components = URLComponents(string: trimmed) else {
            throw StoreError.invalidURL(Self.redact(trimmed), reason: "not a URL")
        }
        guard let host = components.host, !host.isEmpty else {
            throw StoreError.invalidURL(Self.redact(trimmed), reason: "the host is missing")
        }
        if let port = components.port, !(1...65535).contains(port) {
            throw StoreError.invalidURL(Self.redact(trimmed), reason: "the port \(port) is out of range (1-65535)")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else {
            throw StoreError.invalidURL(Self.redact(trimmed), reason: "the database name is missing (…/DBNAME)")
        }
        let user = components.user?.removingPercentEncoding ?? "postgres"
        let password = components.password?.removingPercentEncoding
        var sslMode = ["127.0.0.1", "localhost", "::1"].contains(host) ? "disable" : "prefer"
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value, ["disable", "prefer", "require"].contains(value) else {
                    throw StoreError.invalidURL(Self.redact(trimmed), reason: "sslmode must be disable, prefer or require")
                }
                sslMode = value
            default:
                throw StoreError.invalidURL(Self.redact(trimmed), reason: "unknown parameter `\(item.name)`")
            }
        }
        self = .postgres(PostgresLocation(host: host, port: components.port ?? 5432, user: user, password: password,
                                          database: database, sslMode: sslMode))
    }

    /// The default database: `$XDG_DATA_HOME/converge/converge.sqlite`, else
    /// `$HOME/.local/share/converge/converge.sqlite`.
    ///
    /// - Throws: ``StoreError/invalidURL(_:reason:)`` when neither variable is set.
    public static func defaultLocation(environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> DatabaseURL {
        if let data = environment["XDG_DATA_HOME"], !data.isEmpty {
            return .sqlite(path: data + "/converge/converge.sqlite")
        }
        if let home = environment["HOME"], !home.isEmpty {
            return .sqlite(path: home + "/.local/share/converge/converge.sqlite")
        }
        throw StoreError.invalidURL("", reason: "no database given and neither XDG_DATA_HOME nor HOME is set")
    }

    /// `--db`, then `CONVERGE_DATABASE_URL`, then ``defaultLocation(environment:)``.
    public static func resolve(flag: String?, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws -> DatabaseURL {
        if let flag, !flag.isEmpty { return try DatabaseURL(parsing: flag) }
        if let value = environment["CONVERGE_DATABASE_URL"], !value.isEmpty { return try DatabaseURL(parsing: value) }
        return try defaultLocation(environment: environment)
    }

    /// `sqlite:/path` or `postgres://user@host:port/db` (no password).
    public var description: String {
        switch self {
        case .sqlite(let path): return "sqlite:\(path)"
        case .postgres(let location): return "postgres://\(location.user)@\(location.host):\(location.port)/\(location.database)"
        }
    }

    /// A URL with any password replaced by `***`, done on the text itself so that it works on URLs that do
    /// not parse: everything between `scheme://user:` and the last `@` of the authority is the password.
    static func redact(_ text: String) -> String {
        guard let schemeEnd = text.range(of: "://") else { return text }
        let rest = text[schemeEnd.upperBound...]
        // The authority ends at the first `/`, `?` or `#` after the last `@` (passwords may hold those characters).
        guard let at = rest.lastIndex(of: "@") else { return text }
        let userInfo = rest[..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(rest[at...])
    }
}
