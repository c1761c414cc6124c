import Foundation
import MultipartKit
import NIOCore

/// The fields of a `multipart/form-data` body (RFC 7578), parsed by MultipartKit's `MultipartParser`:
/// text fields by name, in order, and uploaded files with their file names. The server's start form posts one
/// (ConvergeServer reads the request's body and hands it here); it is its own module so that the fuzz target
/// (`converge-fuzz multipart`) runs this same parser without the server.
package struct FormData: Sendable {
    package struct Part: Sendable, Equatable {
        package var name: String
        package var filename: String?
        package var bytes: [UInt8]

        package init(name: String, filename: String?, bytes: [UInt8]) {
            self.name = name
            self.filename = filename
            self.bytes = bytes
        }
    }

    /// Why a body could not be read as a form.
    package enum Failure: Error, Sendable, Equatable {
        /// Not multipart data with this boundary.
        case malformed
        /// A part without a `Content-Disposition` name.
        case unnamedPart
    }

    package var parts: [Part]

    package init(parts: [Part]) {
        self.parts = parts
    }

    /// The first field called `name` as text; `nil` when absent or not UTF-8. Line breaks are as sent (CRLF
    /// from browsers) turned into LF.
    package func text(_ name: String) -> String? {
        parts.first { $0.name == name && $0.filename == nil }.flatMap(Self.text)
    }

    /// Every text field called `name`, in order.
    package func texts(_ name: String) -> [String] {
        parts.filter { $0.name == name && $0.filename == nil }.compactMap(Self.text)
    }

    /// The first file field called `name` (a file input sends one even when no file was chosen: empty name
    /// and no bytes).
    package func file(_ name: String) -> (filename: String, bytes: [UInt8])? {
        guard let part = parts.first(where: { $0.name == name && $0.filename != nil }) else { return nil }
        return (part.filename ?? "", part.bytes)
    }

    private static func text(_ part: Part) -> String? {
        String(validating: part.bytes, as: UTF8.self)?.replacingOccurrences(of: "\r\n", with: "\n")
    }

    /// The boundary of a `Content-Type` value, when it is `multipart/form-data` with a boundary of 1 to 200
    /// characters; `nil` otherwise.
    package static func boundary(ofContentType contentType: String) -> String? {
        guard contentType.lowercased().hasPrefix("multipart/form-data"),
              let boundary = parameter("boundary", of: contentType), !boundary.isEmpty, boundary.count <= 200 else {
            return nil
        }
        return boundary
    }

    /// Parses a body with `boundary`.
    /// - Throws: ``Failure/malformed`` when it is not multipart data, ``Failure/unnamedPart`` when a part has
    ///   no name.
    package static func parse(_ body: ByteBuffer, boundary: String) throws(Failure) -> FormData {
        guard !hasNonASCIIHeaderName(Array(body.readableBytesView), boundary: boundary) else { throw .malformed }
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
            throw .malformed
        }
        guard !broken else { throw .unnamedPart }
        return FormData(parts: parts)
    }

    /// Whether a part's header could have a byte above 0x7F in its name: MultipartKit's parser (4.7.1) looks
    /// such a byte up in a 128-entry table and traps (index out of range), which would end the server on one
    /// form post (found by the fuzz target `multipart`). Header names are ASCII tokens (RFC 9110), so the form
    /// is refused as malformed instead. Every place the parser may read a header name is checked: after each
    /// `--BOUNDARY` and CRLF, each header line up to its colon, until the empty line or a byte the parser
    /// refuses in a name. Every line start follows a CRLF and is checked once: linear in the body.
    private static let separators = Set(#"()<>@,;:\"/[]?={}"#.utf8)

    static func hasNonASCIIHeaderName(_ bytes: [UInt8], boundary: String) -> Bool {
        let marker = Array("--\(boundary)\r\n".utf8)
        guard bytes.count >= marker.count else { return false }
        var checked = Set<Int>()
        for start in 0...(bytes.count - marker.count)
        where bytes[start] == 0x2D && bytes[start..<(start + marker.count)].elementsEqual(marker) {
            var index = start + marker.count
            lines: while index < bytes.count, checked.insert(index).inserted {
                // The name: up to a colon (after at least one byte), or CR on an empty line (the headers end).
                var nameLength = 0
                while index < bytes.count {
                    let byte = bytes[index]
                    if byte >= 0x80 { return true }
                    index += 1
                    if byte == 0x3A && nameLength > 0 { break }
                    // Anything else outside a token ends the parse there (a syntax error, or the headers' end).
                    if byte <= 0x20 || byte == 0x7F || separators.contains(byte) { break lines }
                    nameLength += 1
                }
                // The value: up to CR LF.
                while index < bytes.count && bytes[index] != 0x0D { index += 1 }
                guard index + 1 < bytes.count, bytes[index + 1] == 0x0A else { break }
                index += 2
            }
        }
        return false
    }

    /// A parameter of a header value (`boundary=...`, `name="..."`), unquoted (RFC 9110 quoted-string,
    /// backslash escapes).
    package static func parameter(_ key: String, of value: String) -> String? {
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
