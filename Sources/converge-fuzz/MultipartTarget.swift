import ConvergeForms
import Foundation
import NIOCore

/// The server's multipart/form-data reader (`FormData`, the start form's posts) on any request.
extension FuzzTargets {
    /// The input is a `Content-Type` value, a line feed, and the body. When the type names a boundary, the body is
    /// parsed with it as the server does: the form holds no more bytes than the body, every part's name reads
    /// back from a quoted `Content-Disposition` parameter, and the form written out again (with a boundary of
    /// its own, when no part's bytes contain it and there is a part) parses as the same parts.
    static func multipart(_ data: Data) {
        let newline = data.firstIndex(of: 0x0A) ?? data.endIndex
        let contentType = String(decoding: data[..<newline], as: UTF8.self)
        let body = Array(data[newline...].dropFirst())
        guard let boundary = FormData.boundary(ofContentType: contentType) else { return }
        guard !boundary.isEmpty, boundary.count <= 200 else { fatalError("boundary \(boundary.debugDescription)") }
        guard let form = try? FormData.parse(ByteBuffer(bytes: body), boundary: boundary) else { return }
        guard form.parts.reduce(0, { $0 + $1.bytes.count }) <= body.count else { fatalError("more bytes than the body") }
        for part in form.parts {
            guard FormData.parameter("name", of: "form-data; name=" + quoted(part.name)) == part.name else {
                fatalError("the part name \(part.name.debugDescription) does not read back from a quoted parameter")
            }
            if let filename = part.filename, FormData.parameter("filename", of: "form-data; name=\"x\"; filename=" + quoted(filename)) != filename {
                fatalError("the file name \(filename.debugDescription) does not read back from a quoted parameter")
            }
            _ = (form.text(part.name), form.texts(part.name), form.file(part.name))
        }
        let own = "converge-fuzz-boundary"
        let delimiter = Array("\r\n--\(own)".utf8)
        let writable = form.parts.allSatisfy { part in
            !(part.name + (part.filename ?? "")).contains(where: \.isNewline) && !contains(part.bytes, delimiter)
        }
        // (A form of no parts is not multipart data: RFC 2046 asks for one part at least.)
        guard writable, !form.parts.isEmpty else { return }
        var written: [UInt8] = []
        for part in form.parts {
            var disposition = "Content-Disposition: form-data; name=" + quoted(part.name)
            if let filename = part.filename { disposition += "; filename=" + quoted(filename) }
            written += Array("--\(own)\r\n\(disposition)\r\n\r\n".utf8) + part.bytes + Array("\r\n".utf8)
        }
        written += Array("--\(own)--\r\n".utf8)
        guard let again = try? FormData.parse(ByteBuffer(bytes: written), boundary: own), again.parts == form.parts else {
            fatalError("the form written out again does not parse as the same \(form.parts.count) parts")
        }
    }

    /// An RFC 9110 quoted-string: backslashes and quotes escaped.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for character in text {
            if character == "\\" || character == "\"" { result.append("\\") }
            result.append(character)
        }
        return result + "\""
    }

    static func contains(_ bytes: [UInt8], _ needle: [UInt8]) -> Bool {
        guard bytes.count >= needle.count else { return false }
        return (0...(bytes.count - needle.count)).contains { bytes[$0..<($0 + needle.count)].elementsEqual(needle) }
    }
}
