import Crypto
import ConvergeCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How `converge serve` listens and whom it lets in.
public struct ServerConfiguration: Sendable {
    /// The address to bind: an IPv4 or IPv6 literal or `localhost`. Default `127.0.0.1`.
    public var host: String
    /// The TCP port; 0 picks a free one (the bound port is passed to `onServerRunning`).
    public var port: Int
    /// API tokens; empty means no authentication, which only a loopback host allows (`validate()`).
    public var tokens: APITokens
    /// The largest request body accepted, in bytes; larger bodies answer 413. Default 4 MiB.
    public var maxBodyBytes: Int
    /// The version reported by `GET /healthz`.
    public var version: String

    public static let defaultMaxBodyBytes = 4 << 20

    public init(host: String = "127.0.0.1", port: Int = 8080, tokens: APITokens = APITokens(),
                maxBodyBytes: Int = Self.defaultMaxBodyBytes, version: String = "0.1.0") {
        self.host = host
        self.port = port
        self.tokens = tokens
        self.maxBodyBytes = maxBodyBytes
        self.version = version
    }

    /// Whether `host` is a loopback address (`127.0.0.0/8`, `::1`, `localhost`): only this machine can connect.
    public var isLoopback: Bool { Self.isLoopback(host) }

    /// Checks the configuration before binding.
    ///
    /// - Throws: `InputError` (field `--host`) when the host is not a loopback address and no API tokens are
    ///   configured: the API would be open to the network. `InputError` (field `--port`) for a port outside
    ///   0...65535, and (field `--max-body-bytes`) for a limit below 1 KiB.
    public func validate() throws {
        guard (0...65535).contains(port) else {
            throw InputError(field: "--port", "the port must be in 0...65535 (0 picks a free port), not \(port)")
        }
        guard maxBodyBytes >= 1024 else {
            throw InputError(field: "--max-body-bytes", "the body limit must be at least 1024 bytes")
        }
        if !isLoopback && tokens.isEmpty {
            throw InputError(field: "--host", """
                refusing to serve on \(host) without API tokens: anyone who can reach it could use the API. \
                Set \(APITokens.environmentVariable) to one or more comma-separated tokens of at least \
                \(APITokens.minimumLength) characters, or bind to 127.0.0.1.
                """)
        }
    }

    /// Whether `host` names a loopback address: `localhost`, an IPv4 address in `127.0.0.0/8`, or `::1`
    /// (brackets allowed).
    public static func isLoopback(_ host: String) -> Bool {
        var host = host.lowercased()
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            // s_addr is in network byte order: its first byte in memory is the first octet.
            return withUnsafeBytes(of: &v4) { $0[0] } == 127
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            let bytes = withUnsafeBytes(of: &v6) { Array($0) }
            return bytes.dropLast().allSatisfy { $0 == 0 } && bytes.last == 1
        }
        return false
    }

    /// The URL clients use for a bound port (`http://127.0.0.1:8080`, `http://[::1]:8080`).
    public func url(port: Int) -> String {
        host.contains(":") && !host.hasPrefix("[") ? "http://[\(host)]:\(port)" : "http://\(host):\(port)"
    }
}

/// The server's API tokens, from `CONVERGE_API_TOKENS` (comma-separated).
///
/// Tokens are compared in constant time for a given candidate length (`accepts(_:)`), and are never logged,
/// echoed in a response, or shown in an error (`description` hides them).
public struct APITokens: Sendable, CustomStringConvertible {
    public static let environmentVariable = "CONVERGE_API_TOKENS"
    /// The shortest token accepted, in bytes (UTF-8).
    public static let minimumLength = 16

    private let tokens: [[UInt8]]

    public init() { tokens = [] }

    /// Parses a comma-separated list; white space around tokens and empty entries are ignored.
    ///
    /// - Throws: `InputError` naming the variable and the token's position (never its value) for a token shorter
    ///   than `minimumLength` or holding white space or control characters.
    public init(parsing list: String?) throws {
        var tokens: [[UInt8]] = []
        for (n, part) in (list ?? "").split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            let token = String(part).trimmingWhitespace
            if token.isEmpty { continue }
            if token.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }) {
                throw InputError(field: Self.environmentVariable, "token \(n + 1) holds white space or control characters")
            }
            if token.utf8.count < Self.minimumLength {
                throw InputError(field: Self.environmentVariable,
                                 "token \(n + 1) is shorter than \(Self.minimumLength) characters")
            }
            tokens.append(Array(token.utf8))
        }
        self.tokens = tokens
    }

    public var isEmpty: Bool { tokens.isEmpty }

    /// A secret derived from the tokens (SHA-256 of them, sorted), for signing page sessions: it changes when
    /// the tokens change, and never reveals them.
    var sessionSecret: [UInt8] {
        var hasher = SHA256()
        hasher.update(data: Array("converge-session-v1".utf8))
        for token in tokens.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            hasher.update(data: Array(String(token.count).utf8) + [0x3A] + token)
        }
        return Array(hasher.finalize())
    }
    public var count: Int { tokens.count }

    /// Whether `candidate` is one of the tokens. Every token is compared, byte by byte over the candidate's
    /// length, without early exit: the time taken depends on the candidate's length and the number of tokens,
    /// not on how much of a token the candidate matches.
    public func accepts(_ candidate: some StringProtocol) -> Bool {
        let bytes = Array(candidate.utf8)
        var matched: UInt8 = 0
        for token in tokens {
            matched |= Self.constantTimeEquals(bytes, token)
        }
        return matched != 0 && !bytes.isEmpty
    }

    /// 1 when equal, else 0; reads every byte of `candidate`.
    @inline(never)
    private static func constantTimeEquals(_ candidate: [UInt8], _ token: [UInt8]) -> UInt8 {
        guard !token.isEmpty else { return 0 }
        var difference: UInt8 = candidate.count == token.count ? 0 : 1
        for i in candidate.indices {
            difference |= candidate[i] ^ token[i % token.count]
        }
        return difference == 0 ? 1 : 0
    }

    public var description: String { "\(tokens.count) API token(s)" }
}
