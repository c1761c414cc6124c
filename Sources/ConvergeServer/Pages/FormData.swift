import Foundation
import HTTPTypes
import Hummingbird
import MultipartKit

/// The fields of a `multipart/form-data` body (RFC 7578), parsed by MultipartKit's `MultipartParser`:
/// text fields by name, in order, and uploaded files with their file names.
struct FormData: Sendable {
    struct Part: Sendable {
        var name: String
        var filename: String?
        var bytes: [UInt8]
    }

    var parts: [Part]

    /// The first field called `name` as text; `nil` when absent or not UTF-8. Line breaks are as sent (CRLF
    /// from browsers) turned into LF.
    func text(_ name: String) -> String? {
        parts.first { $0.name == name && $0.filename == nil }.flatMap(Self.text)
    }

    /// Every text field called `name`, in order.
    func texts(_ name: String) -> [String] {
        parts.filter { $0.name == name && $0.filename == nil }.compactMap(Self.text)
    }

    /// The first file field called `name` (a file input sends one even when no file was chosen: empty name
    /// and no bytes).
    func file(_ name: String) -> (filename: String, bytes: [UInt8])? {
        guard let part = parts.first(where: { $0.name == name && $0.filename != nil }) else { return nil }
        return (part.filename ?? "", part.bytes)
    }

    private static func text(_ part: Part) -> String? {
        String(validating: part.bytes, as: UTF8.self)?.replacingOccurrences(of: "\r\n", with: "\n")
    }

    /// Reads the request's body.
    /// - Throws: `APIError` 415 when the body is not `multipart/form-data` with a boundary; 413 when larger than
    ///   `maxBytes`; 400 when it does not parse.
    static func read(_ request: Request, maxBytes: Int) async throws -> FormData {
        let contentType = request.headers[.contentType] ?? ""
        guard contentType.lowercased().hasPrefix("multipart/form-data"),
              let boundary = parameter("boundary", of: contentType), !boundary.isEmpty, boundary.count <= 200 else {
            throw APIError(.unsupportedMediaType, code: .unsupportedMediaType,
                           "the form must be sent as multipart/form-data with a boundary")
        }
        let body = try await request.body.collect(upTo: maxBytes)
        return try parse(body, boundary: boundary)
    }

    /// Parses a body with `boundary`.
    /// - Throws: `APIError` 400 when it is not multipart data or a part has no name.
    static func parse(_ body: ByteBuffer, boundary: String) throws(APIError) -> FormData {
        let parser = MultipartParser(boundary: boundary)
        var parts: [Part] = []
        var disposition: String?
        var bytes: [UInt8] = []
        var broken = false
        parser.onHeader = { name, value in
            if name.lowercased() == "content-disposition" { disposition = value }
        }
        parser.onBody = { buffer in bytes += buffer.readableBytesView }
        parser.onPartComplete = {
            if let disposition, let name = parameter("name", of: disposition) {
                parts.append(Part(name: name, filename: parameter("filename", of: disposition), bytes: bytes))
            } else {
                broken = true
            }
            disposition = nil
            bytes = []
        }
        do {
            try parser.execute(body)
        } catch {
            throw APIError(.badRequest, code: .badRequest, "the form could not be read (malformed multipart data)")
        }
        guard !broken else { throw APIError(.badRequest, code: .badRequest, "a part of the form has no name") }
        return FormData(parts: parts)
    }

    /// A parameter of a header value (`boundary=...`, `name="..."`), unquoted (RFC 9110 quoted-string,
    /// backslash escapes).
    static func parameter(_ key: String, of value: String) -> String? {
        var rest = Substring(value)
        while let semicolon = rest.firstIndex(of: ";") {
            rest = rest[rest.index(after: semicolon)...].drop { $0 == " " || $0 == "\t" }
            guard let equals = rest.firstIndex(of: "=") else { return nil }
            let name = rest[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var after = rest[rest.index(after: equals)...]
            var parsed = ""
            if after.first == "\"" {
                after = after.dropFirst()
                var escaped = false
                var end = after.endIndex
                for index in after.indices {
                    let character = after[index]
                    if escaped { parsed.append(character); escaped = false; continue }
                    if character == "\\" { escaped = true; continue }
                    if character == "\"" { end = index; break }
                    parsed.append(character)
                }
                rest = end < after.endIndex ? after[after.index(after: end)...] : ""
            } else {
                let end = after.firstIndex(of: ";") ?? after.endIndex
                parsed = after[..<end].trimmingCharacters(in: .whitespaces)
                rest = after[end...]
            }
            if name == key { return parsed }
        }
        return nil
    }
}
