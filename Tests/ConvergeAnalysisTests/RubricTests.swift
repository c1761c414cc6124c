import ConvergeCore
import Foundation
import Testing

@Suite struct RubricTests {
    @Test func parsesTheExampleRubric() throws {
        let yaml = try String(contentsOf: Paths.example.appendingPathComponent("rubric.yaml"), encoding: .utf8)
        let rubric = try Rubric(yaml: yaml)
        #expect(rubric.title == "Senior backend software engineer")
        #expect(rubric.categories.count == 7)
        #expect(rubric.items.last?.item.id == "ai-tools")
    }

    @Test func aByteOrderMarkIsNotPartOfTheDocument() throws {
        let rubric = try Rubric(yaml: "\u{FEFF}title: X\r\ncategories:\r\n  - name: A\r\n    items: [{id: a, text: b}]\r\n")
        #expect(rubric.items.map(\.item.id) == ["a"])
    }

    @Test func yamlSyntaxErrorNamesLineAndColumn() {
        let yaml = "title: X\ncategories:\n  - name: A\n    items: [ {id: a, text: b }\n"
        #expect { try Rubric(yaml: yaml, file: "r.yaml") } throws: { error in
            let e = error as? InputError
            return e?.file == "r.yaml" && e?.line != nil && e?.column != nil && e!.message.contains("YAML error")
        }
    }

    @Test func duplicateIdsAreRejectedWithBothLines() {
        let yaml = """
            title: X
            categories:
              - name: A
                items:
                  - id: same
                    text: one
                  - id: same
                    text: two
            """
        #expect { try Rubric(yaml: yaml, file: "r.yaml") } throws: { error in
            let e = error as? InputError
            return e?.line == 7 && e?.field == "categories[0].items[1].id"
                && e!.description.contains("duplicate rubric id `same` (first used on line 5)")
        }
    }

    @Test func missingAndMistypedFieldsAreNamed() {
        #expect { try Rubric(yaml: "title: X\n") } throws: { ($0 as? InputError)?.message == "missing `categories`" }
        #expect { try Rubric(yaml: "title: X\ncategories:\n  - name: A\n    items:\n      - id: [1]\n        text: t\n") }
            throws: { ($0 as? InputError)?.field == "categories[0].items[0].id" }
        #expect { try Rubric(yaml: "- just a list\n") } throws: { $0 is InputError }
    }
}

@Suite struct SurveyFolderTests {
    func folder(_ files: [String: Data]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("converge-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, data) in files { try data.write(to: dir.appendingPathComponent(name)) }
        return dir
    }

    @Test func emptyFolderAndFolderWithoutAnswers() throws {
        let empty = try folder([:])
        #expect { try SurveyFolder.load(paths: [empty.path]) } throws: {
            ($0 as? InputError)?.message.contains("the folder is empty") == true
        }
        let noAnswers = try folder(["prompt.md": Data("Q?".utf8), "rubric.yaml": Data("x".utf8)])
        #expect { try SurveyFolder.load(paths: [noAnswers.path]) } throws: {
            ($0 as? InputError)?.message.contains("no answer files") == true
        }
    }

    @Test func emptyBinaryAndNonUTF8Answers() throws {
        let dir = try folder(["blank.md": Data("  \n\n".utf8)])
        #expect { try SurveyFolder.load(paths: [dir.path]) } throws: {
            ($0 as? InputError)?.message == "the answer is empty"
        }
        let binary = try folder(["bin.txt": Data([0x41, 0x0A, 0x00, 0x01])])
        #expect { try SurveyFolder.load(paths: [binary.path]) } throws: {
            let e = $0 as? InputError
            return e?.message.contains("NUL byte at byte offset 2") == true && e?.line == 2
        }
        let latin1 = try folder(["latin.md": Data("caf\u{E9}".utf8.dropLast(2) + [0xE9, 0x0A])])
        #expect { try SurveyFolder.load(paths: [latin1.path]) } throws: {
            ($0 as? InputError)?.message.contains("not valid UTF-8: byte 0xE9 at byte offset 3") == true
        }
    }

    @Test func keepsTextExactlyAndSkipsReservedFiles() throws {
        let text = "\u{FEFF}Line one\r\nLine two\n"
        let dir = try folder(["b.md": Data(text.utf8), "a.txt": Data("Answer A".utf8), "SOURCE.md": Data("src".utf8),
                              "follow-up.md": Data("next".utf8), "README.md": Data("r".utf8),
                              ".hidden.md": Data("h".utf8)])
        let input = try SurveyFolder.load(paths: [dir.path])
        #expect(input.answers.map(\.panelist.id) == ["a", "b"])
        #expect(input.answers[1].text.unicodeScalars.elementsEqual(text.unicodeScalars))
    }

    @Test func duplicatePanelistIdsAndMissingPaths() throws {
        let dir = try folder(["x.md": Data("one".utf8), "x.txt": Data("two".utf8)])
        #expect { try SurveyFolder.load(paths: [dir.path]) } throws: {
            ($0 as? InputError)?.message.contains("panelist id `x` is already taken") == true
        }
        #expect { try SurveyFolder.load(paths: ["/nonexistent/answer.md"]) } throws: {
            ($0 as? InputError)?.description == "/nonexistent/answer.md: no such file or folder"
        }
    }
}
