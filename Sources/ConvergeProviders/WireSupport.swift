import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Shared helpers for the wire-format clients.
enum WireSupport {
    /// Decodes a 2xx body, or throws ``ProviderError/malformedResponse(_:)`` with a short, scrubbed excerpt.
    static func decode<T: Decodable>(_ type: T.Type, from result: HTTPResult, redactor: Redactor) throws(ProviderError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: result.body)
        } catch {
            throw .malformedResponse("the body is not the expected JSON (\(describe(error))); body starts: "
                + excerpt(result.body, redactor: redactor))
        }
    }

    /// An `.http` error for a non-2xx answer, with the server's message when the body carries one
    /// (`{"error": {"message": ...}}` or `{"error": "..."}` or `{"message": ...}`), scrubbed and shortened.
    static func httpError(_ result: HTTPResult, requestID: String?, redactor: Redactor) -> ProviderError {
        .http(status: result.status, message: serverMessage(result.body, redactor: redactor),
              retryAfter: result.headers.retryAfterSeconds(), requestID: requestID.map { value($0, redactor: redactor) })
    }

    /// A short value the server chose (a finish or block reason, a request id) as it goes into an error message:
    /// scrubbed of secrets, one line without control characters, at most 100 characters. (Found by the fuzz
    /// targets: such a value went into the error verbatim, ANSI escapes and line feeds included, at any length.)
    static func value(_ text: String, redactor: Redactor) -> String {
        shorten(redactor.redact(text), to: 100)
    }

    static func serverMessage(_ body: Data, redactor: Redactor) -> String {
        var message: String?
        if let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] {
            if let error = object["error"] as? [String: Any] {
                message = error["message"] as? String
                if message == nil, let type = error["type"] as? String { message = type }
            } else if let error = object["error"] as? String {
                message = error
            } else if let text = object["message"] as? String {
                message = text
            }
        }
        let text = message ?? String(decoding: body.prefix(300), as: UTF8.self)
        return shorten(redactor.redact(text.trimmingCharacters(in: .whitespacesAndNewlines)), to: 300)
    }

    static func excerpt(_ body: Data, redactor: Redactor) -> String {
        if body.isEmpty { return "(empty)" }
        return "'" + shorten(redactor.redact(String(decoding: body.prefix(120), as: UTF8.self)), to: 120) + "'"
    }

    /// One line of at most `limit` characters; control characters (a server's ANSI escapes, NUL) become spaces
    /// so that nothing a server sends can drive the user's terminal.
    static func shorten(_ text: String, to limit: Int) -> String {
        let scalars = text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }
        let collapsed = String(String.UnicodeScalarView(scalars))
        return collapsed.count > limit ? String(collapsed.prefix(limit)) + "…" : collapsed
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): return "missing `\(key.stringValue)`"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return "wrong type at `\(path)`"
        case DecodingError.dataCorrupted: return "not valid JSON"
        default: return "cannot decode"
        }
    }

    static func encode<T: Encodable>(_ value: T) throws(ProviderError) -> Data {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return try encoder.encode(value)
        } catch {
            throw .invalidConfiguration("cannot encode the request body")
        }
    }

    /// Joins a base URL and a path, with exactly one `/` between them.
    static func join(_ base: String, _ path: String) -> String {
        var base = base
        while base.hasSuffix("/") { base.removeLast() }
        return base + (path.hasPrefix("/") ? path : "/" + path)
    }
}
