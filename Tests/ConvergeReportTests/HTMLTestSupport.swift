import ConvergeAnalysis
import ConvergeCore
import Foundation
import Testing

@testable import ConvergeReport

/// The senior-backend example analysed for real, with its answers attached (as `converge analyze --format
/// html` does).
func seniorBackendHTMLReport() throws -> (report: Report, input: AnalysisInput) {
    let input = try SurveyFolder.load(paths: [Repo.seniorBackend.path])
    return (Analyzer().analyze(input).attachingAnswers(input.answers), input)
}

/// One start or end tag of an HTML page, with its attributes (values as written, still escaped).
struct Tag {
    var name: String
    var closing: Bool
    var selfClosing: Bool
    var attributes: [(name: String, value: String)]
}

enum TagScanError: Error, CustomStringConvertible {
    case malformed(String)
    var description: String { if case .malformed(let s) = self { return s } else { return "" } }
}

/// Scans every tag of a page as the renderer writes them: `<name attr="value" ...>`, `</name>`, `<!DOCTYPE html>`.
/// Text between tags must hold no `<`, and attribute values must be double-quoted with no `"`, `<` or `>` inside,
/// so any unescaped report text shows up as a malformed tag.
func scanTags(_ html: String) throws -> [Tag] {
    var tags: [Tag] = []
    let s = Array(html.unicodeScalars)
    var i = 0
    func isName(_ c: Unicode.Scalar) -> Bool { c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "-" || c == ":" }
    while i < s.count {
        guard s[i] == "<" else {
            if s[i] == ">" { throw TagScanError.malformed("a bare > at scalar \(i)") }
            i += 1
            continue
        }
        i += 1
        if s[i] == "!" {
            let rest = String(String.UnicodeScalarView(s[i..<min(s.count, i + 14)]))
            guard rest == "!DOCTYPE html>" else { throw TagScanError.malformed("unexpected <! at \(i)") }
            i += 14
            continue
        }
        var tag = Tag(name: "", closing: false, selfClosing: false, attributes: [])
        if s[i] == "/" { tag.closing = true; i += 1 }
        var name = String.UnicodeScalarView()
        while i < s.count, isName(s[i]) { name.append(s[i]); i += 1 }
        tag.name = String(name)
        guard !tag.name.isEmpty else { throw TagScanError.malformed("empty tag name at \(i)") }
        while true {
            while i < s.count, s[i] == " " || s[i] == "\n" { i += 1 }
            guard i < s.count else { throw TagScanError.malformed("unterminated tag \(tag.name)") }
            if s[i] == ">" { i += 1; break }
            if s[i] == "/", i + 1 < s.count, s[i + 1] == ">" { tag.selfClosing = true; i += 2; break }
            var attribute = String.UnicodeScalarView()
            while i < s.count, isName(s[i]) { attribute.append(s[i]); i += 1 }
            guard !attribute.isEmpty else { throw TagScanError.malformed("bad attribute in \(tag.name) at \(i)") }
            var value = String.UnicodeScalarView()
            if s[i] == "=" {
                guard s[i + 1] == "\"" else { throw TagScanError.malformed("unquoted value in \(tag.name) at \(i)") }
                i += 2
                while i < s.count, s[i] != "\"" {
                    if s[i] == "<" || s[i] == ">" { throw TagScanError.malformed("< or > in an attribute of \(tag.name)") }
                    value.append(s[i]); i += 1
                }
                i += 1
            }
            tag.attributes.append((String(attribute), String(value)))
        }
        tags.append(tag)
        // Raw text elements: skip to their end tag.
        if !tag.closing, tag.name == "style" {
            let text = String(String.UnicodeScalarView(s[i...]))
            guard let end = text.range(of: "</style>") else { throw TagScanError.malformed("unterminated style") }
            i += text.unicodeScalars.distance(from: text.startIndex, to: end.lowerBound)
        }
    }
    return tags
}

/// Void elements of HTML (no end tag).
let voidElements: Set<String> = ["meta", "link", "br", "img", "hr", "input", "col", "wbr"]

/// Checks that start and end tags nest properly; returns the first problem.
func nestingProblem(_ tags: [Tag]) -> String? {
    var stack: [String] = []
    for tag in tags {
        if tag.closing {
            guard stack.last == tag.name else { return "</\(tag.name)> closes <\(stack.last ?? "nothing")>" }
            stack.removeLast()
        } else if !tag.selfClosing, !voidElements.contains(tag.name) {
            stack.append(tag.name)
        }
    }
    return stack.isEmpty ? nil : "unclosed: \(stack)"
}

/// Tags and attributes the renderer writes; anything else in a page came from report text.
let allowedTags: Set<String> = [
    "html", "head", "meta", "title", "link", "style", "body", "main", "header", "nav", "footer", "section", "article",
    "h2", "h3", "p", "a", "span", "div", "bdi", "code", "strong", "blockquote", "mark", "details", "summary",
    "ol", "ul", "li", "table", "thead", "tbody", "tr", "th", "td",
    "svg", "g", "rect", "circle", "line", "text", "tspan", "desc",
]
let allowedAttributes: Set<String> = [
    "lang", "charset", "name", "content", "http-equiv", "rel", "href", "id", "class", "title", "aria-label",
    "aria-labelledby", "aria-hidden", "role", "scope", "colspan", "style",
    "width", "height", "viewBox", "x", "y", "x1", "x2", "y1", "y2", "rx", "cx", "cy", "r", "transform", "text-anchor",
]

/// The text inside every `<mark ...>...</mark>` of `html`, as written (escaped). Searched scalar by scalar: a
/// combining mark right after `>` would hide it from a `Character` search.
func markedTexts(_ html: String) -> [String] {
    let s = Array(html.unicodeScalars)
    let open = Array("<mark class=".unicodeScalars), close = Array("</mark>".unicodeScalars)
    func find(_ needle: [Unicode.Scalar], from: Int) -> Int? {
        guard needle.count <= s.count else { return nil }
        var i = from
        while i + needle.count <= s.count {
            if s[i] == needle[0], Array(s[i..<i + needle.count]) == needle { return i }
            i += 1
        }
        return nil
    }
    var out: [String] = []
    var i = 0
    while let o = find(open, from: i), let gt = s[o...].firstIndex(of: ">"), let c = find(close, from: gt) {
        out.append(String(String.UnicodeScalarView(s[(gt + 1)..<c])))
        i = c + close.count
    }
    return out
}

/// The part of a page from `<section id="answers">` on.
func answersPart(_ html: String) -> Substring {
    guard let start = html.range(of: "<section id=\"answers\">") else { return "" }
    return html[start.lowerBound...]
}

/// Scalar offsets of the first occurrence of `quote` in `text`.
func scalarRange(of quote: String, in text: String) -> (start: Int, end: Int)? {
    let haystack = Array(text.unicodeScalars), needle = Array(quote.unicodeScalars)
    guard !needle.isEmpty, needle.count <= haystack.count else { return nil }
    for start in 0...(haystack.count - needle.count) where Array(haystack[start..<start + needle.count]) == needle {
        return (start, start + needle.count)
    }
    return nil
}
