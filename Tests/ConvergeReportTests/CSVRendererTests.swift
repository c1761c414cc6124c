import ConvergeCore
import Testing

@testable import ConvergeReport

/// A strict RFC 4180 parser: records end with CRLF, quoted fields may hold commas, CR, LF and doubled quotes;
/// anything else (a bare LF or CR outside quotes, a quote inside an unquoted field, text after a closing
/// quote, an unterminated quote) is an error.
enum RFC4180 {
    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    static func parse(_ text: String) throws -> [[String]] {
        let s = Array(text.unicodeScalars)
        var records: [[String]] = []
        var record: [String] = []
        var field = String.UnicodeScalarView()
        var i = 0
        var atFieldStart = true
        while i < s.count {
            let c = s[i]
            if atFieldStart && c == "\"" {
                // Quoted field.
                i += 1
                while true {
                    guard i < s.count else { throw ParseError(description: "unterminated quoted field") }
                    if s[i] == "\"" {
                        if i + 1 < s.count && s[i + 1] == "\"" {
                            field.append("\"")
                            i += 2
                        } else {
                            i += 1
                            break
                        }
                    } else {
                        field.append(s[i])
                        i += 1
                    }
                }
                guard i == s.count || s[i] == "," || s[i] == "\r" else {
                    throw ParseError(description: "text after a closing quote at \(i)")
                }
                atFieldStart = false
                continue
            }
            switch c {
            case ",":
                record.append(String(field))
                field = .init()
                atFieldStart = true
                i += 1
            case "\r":
                guard i + 1 < s.count, s[i + 1] == "\n" else { throw ParseError(description: "bare CR at \(i)") }
                record.append(String(field))
                records.append(record)
                record = []
                field = .init()
                atFieldStart = true
                i += 2
            case "\n":
                throw ParseError(description: "bare LF at \(i)")
            case "\"":
                throw ParseError(description: "quote inside an unquoted field at \(i)")
            default:
                field.append(c)
                atFieldStart = false
                i += 1
            }
        }
        if !atFieldStart || !field.isEmpty || !record.isEmpty {
            record.append(String(field))
            records.append(record)
        }
        return records
    }
}

@Suite struct CSVRendererTests {
    @Test func parserHandlesTheRFC4180Cases() throws {
        let text = "a,\"b,c\",\"say \"\"hi\"\"\"\r\n\"line 1\r\nline 2\nline 3\",,x\r\n"
        #expect(try RFC4180.parse(text) == [["a", "b,c", "say \"hi\""], ["line 1\r\nline 2\nline 3", "", "x"]])
        #expect(throws: RFC4180.ParseError.self) { try RFC4180.parse("a,b\nc,d\r\n") }
        #expect(throws: RFC4180.ParseError.self) { try RFC4180.parse("a,\"b\r\n") }
        #expect(throws: RFC4180.ParseError.self) { try RFC4180.parse("a,b\"c\r\n") }
    }

    @Test func oneRowPerKeyPointAndOneColumnPerPanelist() throws {
        let report = try SeniorBackend().report()
        let csv = CSVRenderer.render(report)
        #expect(csv.hasSuffix("\r\n"))
        let records = try RFC4180.parse(csv)
        #expect(records.count == report.keyPoints.count + 1)
        #expect(records[0] == ["key_point", "label", "category", "consensus", "support", "AI 1", "AI 2", "AI 3"])
        for record in records { #expect(record.count == 8) }
        #expect(records.dropFirst().map { $0[0] } == report.keyPoints.map(\.id))

        let years = try #require(records.first { $0[0] == "kp-1" })
        #expect(years == ["kp-1", "5+ years of experience", "Experience", "majority", "2",
                          "typically backed by 5+ years of dedicated experience", "", "having 5+ years of experience"])
        // Commas and double quotes inside quotes survive the round trip exactly.
        let languages = try #require(records.first { $0[0] == "kp-2" })
        #expect(languages[5] == "mastering at least one backend language (e.g., Python, Java, Go, Node.js)")
        let book = try #require(records.first { $0[0] == "kp-5" })
        #expect(book[5] == "Essential reads like \"Designing Data-Intensive Applications\"")
        #expect(book[6] == "\"Designing Data-Intensive Applications\" by Kleppmann")
        // The first evidence of a panelist, whole (not shortened as in Markdown).
        let mentoring = try #require(records.first { $0[0] == "kp-3" })
        #expect(mentoring[5] == report.keyPoints[2].evidence[0].quote)
        #expect(mentoring[6] == "Their role extends into mentoring junior developers")
        #expect(mentoring[7] == "")
        // No category: an empty field.
        let ddd = try #require(records.first { $0[0] == "kp-6" })
        #expect(ddd[2] == "" && ddd[3] == "unique" && ddd[4] == "1")
    }

    @Test func multilineAndQuotedTextRoundTrips() throws {
        var report = try SeniorBackend().report()
        let nasty = "first line, with a comma\r\nsecond \"quoted\" line\nthird\rfourth, \"\"done\"\""
        report.keyPoints[0].label = "label, with \"quotes\"\nand a line break"
        report.keyPoints[0].category = "=SUM(A1:A2)"
        report.keyPoints[0].evidence[0].quote = nasty
        let records = try RFC4180.parse(CSVRenderer.render(report))
        #expect(records.count == report.keyPoints.count + 1)
        #expect(records[1][1] == "label, with \"quotes\"\nand a line break")
        // A formula is shown as text in spreadsheets (leading apostrophe); see formulaLikeCellsAreNeutralized.
        #expect(records[1][2] == "'=SUM(A1:A2)")
        #expect(records[1][5] == nasty)
        #expect(CSVRenderer.field("a\"\u{301}b") == "\"a\"\"\u{301}b\"")
    }

    @Test func failedPanelistsHaveNoColumn() throws {
        let report = minimalReport(answered: 2, failed: 1)
        let records = try RFC4180.parse(ReportRenderer.render(report, format: .csv))
        #expect(records == [
            ["key_point", "label", "category", "consensus", "support", "P1", "P2"],
            ["kp-1", "Tests matter", "", "unique", "1", "Tests matter.", ""],
        ])
    }

    @Test func duplicateLabelsAreDisambiguated() throws {
        var report = minimalReport(answered: 2)
        report.panelists[1].label = "P1"
        let records = try RFC4180.parse(CSVRenderer.render(report))
        #expect(Array(records[0].suffix(2)) == ["P1 (p1)", "P1 (p2)"])
    }

    @Test func noKeyPointsGivesTheHeaderOnly() throws {
        let report = minimalReport(answered: 0)
        #expect(CSVRenderer.render(report) == "key_point,label,category,consensus,support\r\n")
    }

    /// Model text that a spreadsheet would run as a formula is shown as text (OWASP CSV injection).
    @Test func formulaLikeCellsAreNeutralized() {
        #expect(CSVRenderer.neutralized("=HYPERLINK(\"http://evil.example\",\"click\") is the way.")
            == "'=HYPERLINK(\"http://evil.example\",\"click\") is the way.")
        for start in ["+b", "-1", "@SUM(1+1)", "\tx", "\rx"] {
            #expect(CSVRenderer.neutralized(start) == "'" + start)
        }
        for plain in ["Use Go.", "5+ years", "", "'quoted"] { #expect(CSVRenderer.neutralized(plain) == plain) }
    }
}
