import ConvergeCore
import ConvergeProviders
import ConvergeRunner
import Foundation
import Testing

/// A batch's prompts read from JSONL, CSV and folders, and every way a batch file can be wrong (file:line).
@Suite struct BatchInputTests {
    func folder(_ files: [String: String]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("converge-batch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, text) in files { try Data(text.utf8).write(to: dir.appendingPathComponent(name)) }
        return dir
    }

    func error(_ body: () throws -> Void) -> InputError? {
        do {
            try body()
            return nil
        } catch let error as InputError {
            return error
        } catch {
            Issue.record("not an InputError: \(error)")
            return nil
        }
    }

    @Test func readsJSONLWithRubricsRelativeToTheFile() throws {
        let rubric = """
            title: Caching
            categories:
              - name: Basics
                items:
                  - {id: redis, text: Use Redis}
            """
        let dir = try folder(["rubric.yaml": rubric, "batch.jsonl": """
            {"id": "q1", "prompt": "What is caching?", "rubric": "rubric.yaml"}

            {"id": "q-2", "prompt": "Line one\\nline two", "tags": ["ignored"]}\r
            """])
        let items = try BatchInput.load(dir.appendingPathComponent("batch.jsonl").path)
        #expect(items.map(\.id) == ["q1", "q-2"])
        #expect(items[1].prompt == "Line one\nline two")
        #expect(items[0].rubric?.yaml == rubric && items[1].rubric == nil)
        #expect(items[1].source.hasSuffix("batch.jsonl:3"))
    }

    @Test func readsCSVWithRFC4180Quoting() throws {
        let text = "prompt,id\r\n\"Say \"\"hi\"\", then, go\",a\r\n\"two\nlines\",b\r\nplain,c\n"
        let items = try BatchInput.parse(text, format: .csv, file: "b.csv")
        #expect(items.map(\.id) == ["a", "b", "c"])
        #expect(items.map(\.prompt) == ["Say \"hi\", then, go", "two\nlines", "plain"])
        #expect(items.map(\.source) == ["b.csv:2", "b.csv:3", "b.csv:5"])
    }

    @Test func readsAFolderOfPromptFilesByName() throws {
        let dir = try folder(["b.md": "Second?", "a.txt": "First?", "README.md": "not a prompt", "notes.json": "{}"])
        let items = try BatchInput.load(dir.path)
        #expect(items.map(\.id) == ["a", "b"])
        #expect(items.map(\.prompt) == ["First?", "Second?"])
    }

    @Test func anEmptyBatchIsRefused() throws {
        let dir = try folder(["empty.jsonl": "", "blank.jsonl": "\n  \n", "header.csv": "id,prompt\n"])
        for name in ["empty.jsonl", "blank.jsonl", "header.csv"] {
            let path = dir.appendingPathComponent(name).path
            let failure = try #require(error { _ = try BatchInput.load(path) })
            #expect(failure.file == path && failure.description.contains("empty"), "\(failure)")
        }
        #expect(error { _ = try BatchInput.load(try folder([:]).path) }?.description.contains("empty") == true)
    }

    @Test func aLineThatIsNotJSONNamesFileAndLine() throws {
        let text = "{\"id\":\"a\",\"prompt\":\"ok\"}\n{\"id\": \"b\", prompt: oops}\n"
        let failure = try #require(error { _ = try BatchInput.parse(text, format: .jsonl, file: "set.jsonl") })
        #expect(failure.file == "set.jsonl" && failure.line == 2)
        #expect(failure.description.hasPrefix("set.jsonl:2: not JSON"))
        let array = try #require(error { _ = try BatchInput.parse("[1]\n", format: .jsonl, file: "f") })
        #expect(array.line == 1 && array.message.contains("not a JSON object"))
        let missing = try #require(error { _ = try BatchInput.parse(#"{"id":"a"}"#, format: .jsonl, file: "f") })
        #expect(missing.field == "prompt" && missing.message == "missing")
        let typed = try #require(error { _ = try BatchInput.parse(#"{"id":7,"prompt":"x"}"#, format: .jsonl, file: "f") })
        #expect(typed.field == "id" && typed.message == "must be a string")
        let name = try #require(error { _ = try BatchInput.parse(#"{"id":"a/b","prompt":"x"}"#, format: .jsonl, file: "f") })
        #expect(name.field == "id" && name.line == 1)
    }

    @Test func duplicateIdsNameBothLines() throws {
        let text = "{\"id\":\"a\",\"prompt\":\"one\"}\n{\"id\":\"b\",\"prompt\":\"two\"}\n{\"id\":\"A\",\"prompt\":\"three\"}\n"
        let failure = try #require(error { _ = try BatchInput.parse(text, format: .jsonl, file: "d.jsonl") })
        #expect(failure.description == "d.jsonl:3: id: duplicate id `A` (first at d.jsonl:1)")
        let csv = try #require(error { _ = try BatchInput.parse("id,prompt\nx,1\nx,2\n", format: .csv, file: "d.csv") })
        #expect(csv.line == 3)
    }

    @Test func aPromptOverTheLimitIsRefused() throws {
        let long = String(repeating: "é", count: RequestLimits.maxPromptBytes / 2 + 1)
        let line = "{\"id\":\"ok\",\"prompt\":\"fine\"}\n{\"id\":\"big\",\"prompt\":\"\(long)\"}\n"
        let failure = try #require(error { _ = try BatchInput.parse(line, format: .jsonl, file: "big.jsonl") })
        #expect(failure.line == 2 && failure.field == "prompt")
        #expect(failure.message == "\(RequestLimits.maxPromptBytes + 2) bytes; the limit is \(RequestLimits.maxPromptBytes) bytes")
        let blank = try #require(error { _ = try BatchInput.parse("id,prompt\na,\"  \"\n", format: .csv, file: "c") })
        #expect(blank.field == "prompt" && blank.line == 2)
    }

    @Test func badCSVNamesTheLine() throws {
        let open = try #require(error { _ = try BatchInput.parse("id,prompt\na,\"never closed\n", format: .csv, file: "o") })
        #expect(open.line == 2 && open.message.contains("never closed"))
        let stray = try #require(error { _ = try BatchInput.parse("id,prompt\na,\"x\"y\n", format: .csv, file: "s") })
        #expect(stray.line == 2)
        let width = try #require(error { _ = try BatchInput.parse("id,prompt\na,b,c\n", format: .csv, file: "w") })
        #expect(width.line == 2 && width.message.contains("3 fields"))
        let header = try #require(error { _ = try BatchInput.parse("name,text\na,b\n", format: .csv, file: "h") })
        #expect(header.line == 1)
    }

    @Test func aRubricThatIsNotOneNamesTheLine() throws {
        let dir = try folder(["bad.yaml": "title: [", "b.jsonl": "{\"id\":\"a\",\"prompt\":\"p\",\"rubric\":\"bad.yaml\"}\n"
                                  + "{\"id\":\"b\",\"prompt\":\"p\",\"rubric\":\"missing.yaml\"}\n"])
        let failure = try #require(error { _ = try BatchInput.load(dir.appendingPathComponent("b.jsonl").path) })
        #expect(failure.line == 1 && failure.field == "rubric")
    }
}
