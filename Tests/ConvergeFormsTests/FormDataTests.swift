import ConvergeForms
import Foundation
import NIOCore
import Testing

/// The multipart/form-data reader of the server's forms (`FormData`), on bodies as a browser sends them and on
/// the inputs the fuzz target `multipart` found (each is also kept in Fuzz/corpus/multipart).
@Suite struct FormDataTests {
    /// The fuzz target's input: a `Content-Type` value, a line feed, the body.
    static func form(_ input: String) throws(FormData.Failure) -> FormData? {
        let (contentType, body) = input.firstIndex(of: "\n").map { (String(input[..<$0]), String(input[input.index(after: $0)...])) }
            ?? (input, "")
        guard let boundary = FormData.boundary(ofContentType: contentType) else { return nil }
        return try FormData.parse(ByteBuffer(string: body), boundary: boundary)
    }

    @Test func theStartFormAsABrowserSendsItIsRead() throws {
        let b = "----converge-test-5D4A"
        func field(_ name: String, _ value: String) -> String {
            "--\(b)\r\nContent-Disposition: form-data; name=\"\(name)\"\r\n\r\n\(value)\r\n"
        }
        let body = field("prompt", "Should we <cache>?") + field("panel", "openai/alpha\r\nopenai/beta") + field("followUp", "And when not?")
            + field("followUp", "") + "--\(b)\r\nContent-Disposition: form-data; name=\"rubric\"; filename=\"rubric.yaml\"\r\n"
            + "Content-Type: application/x-yaml\r\n\r\nid: x\n\r\n--\(b)--\r\n"
        let form = try #require(try Self.form("multipart/form-data; boundary=\(b)\n" + body))
        #expect(form.text("prompt") == "Should we <cache>?")
        #expect(form.text("panel") == "openai/alpha\nopenai/beta")
        #expect(form.texts("followUp") == ["And when not?", ""])
        #expect(form.file("rubric")?.filename == "rubric.yaml")
        #expect(form.file("rubric")?.bytes == Array("id: x\n".utf8))
        #expect(form.text("rubric") == nil)
    }

    @Test func aBodyThatIsNotTheFormsIsRefused() throws {
        #expect(throws: FormData.Failure.malformed) { try Self.form("multipart/form-data; boundary=abc\n--abc\r\nbad header\r\n") }
        #expect(try Self.form("multipart/form-data; boundary=abc\nno boundary in it")?.parts == [])
        #expect(throws: FormData.Failure.unnamedPart) {
            try Self.form("multipart/form-data; boundary=zz\n--zz\r\nContent-Type: text/plain\r\n\r\nno name\r\n--zz--\r\n")
        }
        #expect(FormData.boundary(ofContentType: "application/json") == nil)
        #expect(FormData.boundary(ofContentType: "multipart/form-data; boundary=\"\"") == nil)
        #expect(FormData.boundary(ofContentType: "multipart/form-data; boundary=" + String(repeating: "b", count: 201)) == nil)
    }

    /// Found by the fuzz target (Fuzz/corpus/multipart/crash-non-ascii-header-name.bin): a byte above 0x7F in a
    /// part's header name (`conten\u{85}-disposition`) trapped in MultipartKit's parser (index out of range), which
    /// ended the server. It is a malformed form now; UTF-8 in header values (a file name) is still read.
    @Test func aNonASCIIByteInAPartsHeaderNameIsAMalformedFormNotACrash() throws {
        let crash = Data("multipart/form-data; charset=utf-8; boundary=\"a;b\"\n--a;b\r\ncontent-disp".utf8) + Data([0x85])
            + Data("sition: form-data; name=\"r\\\"x\"; filename=\"my \\\"rubric\\\".yaml\"\r\n\r\nid: x\r\n--a;b--\r\n".utf8)
        let text = String(decoding: crash.prefix { $0 != 0x0A }, as: UTF8.self)
        let boundary = try #require(FormData.boundary(ofContentType: text))
        #expect(boundary == "a;b")
        let body = ByteBuffer(bytes: crash.drop { $0 != 0x0A }.dropFirst())
        #expect(throws: FormData.Failure.malformed) { try FormData.parse(body, boundary: boundary) }
        for byte: UInt8 in [0x80, 0xC3, 0xFF] {
            let named = ByteBuffer(bytes: Array("--b\r\nX-".utf8) + [byte] + Array(": 1\r\n\r\nv\r\n--b--\r\n".utf8))
            #expect(throws: FormData.Failure.malformed) { try FormData.parse(named, boundary: "b") }
        }
        let utf8Value = try FormData.parse(ByteBuffer(string: "--b\r\nContent-Disposition: form-data; name=\"rubric\"; "
                                                      + "filename=\"résumé.yaml\"\r\n\r\nid: x\r\n--b--\r\n"), boundary: "b")
        #expect(utf8Value.file("rubric")?.filename == "résumé.yaml")
    }

    /// The check for such bytes is linear: a body of many boundary lines (each a header line, as the boundary
    /// ends in a colon) is read at once.
    @Test func theHeaderNameCheckIsLinear() {
        let body = String(repeating: "--x:\r\n", count: 200_000)
        let clock = ContinuousClock()
        let elapsed = clock.measure { _ = try? FormData.parse(ByteBuffer(string: body), boundary: "x:") }
        #expect(elapsed < .seconds(20))
    }
}

