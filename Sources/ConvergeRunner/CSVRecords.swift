import ConvergeCore

/// RFC 4180 CSV: records separated by CRLF or LF, fields by commas; a field in double quotes may hold commas,
/// line breaks and doubled quotes (`""` is one `"`). Pure: text in, records out.
enum CSVRecords {
    /// One record with the 1-based line it starts on.
    struct Record: Equatable {
        var line: Int
        var fields: [String]
    }

    /// Splits `text` into records. A line that is empty (outside quotes) is no record.
    /// - Throws: `InputError` naming `file` and the line of a quote left open, or of text after a closing quote
    ///   (`"a"b`).
    static func parse(_ text: String, file: String) throws -> [Record] {
        var records: [Record] = []
        var fields: [String] = []
        var field = ""
        var line = 1, recordLine = 1
        var quoted = false, afterQuote = false, quoteLine = 1
        var characters = Array(text.unicodeScalars)[...]
        func endRecord() {
            fields.append(field)
            if !(fields.count == 1 && fields[0].isEmpty && !afterQuote) {
                records.append(Record(line: recordLine, fields: fields))
            }
            fields = []
            field = ""
            afterQuote = false
        }
        while let c = characters.popFirst() {
            if quoted {
                if c == "\"" {
                    if characters.first == "\"" {
                        characters.removeFirst()
                        field.unicodeScalars.append("\"")
                    } else {
                        quoted = false
                        afterQuote = true
                    }
                } else {
                    if c == "\n" { line += 1 }
                    field.unicodeScalars.append(c)
                }
                continue
            }
            switch c {
            case ",":
                fields.append(field)
                field = ""
                afterQuote = false
            case "\r" where characters.first == "\n":
                break  // the LF ends the record
            case "\n":
                endRecord()
                line += 1
                recordLine = line
            case "\"" where field.isEmpty && !afterQuote:
                quoted = true
                quoteLine = line
            default:
                if afterQuote {
                    throw InputError(file: file, line: line, "text after a closing quote (a quote inside a quoted field is written \"\")")
                }
                field.unicodeScalars.append(c)
            }
        }
        if quoted { throw InputError(file: file, line: quoteLine, "a quoted field is never closed") }
        endRecord()
        return records
    }
}
