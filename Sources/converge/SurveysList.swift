import ArgumentParser
import ConvergeStore
import Foundation

/// `converge surveys list`: one survey a line, newest first.
struct SurveysList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List stored surveys, newest first: id, status, created (UTC), panel size, prompt."
    )

    @OptionGroup var listing: ListOptions
    @OptionGroup var storage: StoreOptions

    var limit: Int { listing.limit }
    var offset: Int { listing.offset }
    var format: ListOptions.Format { listing.format }

    func run() async throws {
        if try storage.isMissingFile() {
            FileHandle.standardError.write(Data("converge: no surveys yet (no database at \(try storage.location()))\n".utf8))
            if format == .json { FileHandle.standardOutput.write(Data("[]\n".utf8)) }
            return
        }
        // One more than asked, to tell whether there are more.
        var surveys = try await storage.withStore { try await $0.surveys(limit: limit + 1, offset: offset) }
        let more = surveys.count > limit
        if more { surveys.removeLast() }
        if surveys.isEmpty && offset == 0 { FileHandle.standardError.write(Data("converge: no surveys yet\n".utf8)) }
        if more, format == .text {
            FileHandle.standardError.write(Data("converge: more surveys: --offset \(offset + limit)\n".utf8))
        }
        switch format {
        case .text:
            var out = ""
            for survey in surveys {
                out += [survey.id, survey.status.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0),
                        SurveyText.time(survey.createdAt), String(survey.panelSize),
                        SurveyText.shorten(survey.prompt, to: 60)].joined(separator: "  ") + "\n"
            }
            FileHandle.standardOutput.write(Data(out.utf8))
        case .json:
            let rows = surveys.map {
                SurveyText.Summary(id: $0.id, status: $0.status.rawValue, createdAt: SurveyText.iso($0.createdAt),
                                   updatedAt: SurveyText.iso($0.updatedAt), panelSize: $0.panelSize, prompt: $0.prompt)
            }
            FileHandle.standardOutput.write(try SurveyText.json(rows))
        }
    }
}

/// Shared text helpers of the surveys commands.
enum SurveyText {
    struct Summary: Encodable {
        var id: String
        var status: String
        var createdAt: String
        var updatedAt: String
        var panelSize: Int
        var prompt: String
    }

    /// `2026-11-29 18:04` in UTC.
    static func time(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }

    static func iso(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    /// The first line of `text`, cut to `limit` characters with an ellipsis; control characters removed.
    static func shorten(_ text: String, to limit: Int) -> String {
        let flat = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        let clean = String(flat.unicodeScalars.filter { !CharacterSet.controlCharacters.contains($0) }.map(Character.init))
            .trimmingCharacters(in: .whitespaces)
        let multiline = text.contains(where: \.isNewline)
        if clean.count <= limit && !multiline { return clean }
        return String(clean.prefix(limit - 1)) + "…"
    }

    static func json<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(value) + Data("\n".utf8)
    }
}
