/// HTML escaping for text taken from answers, prompts, labels, errors and rubrics.
///
/// Every piece of report text reaches the page through `text(_:)` (element content) or `attribute(_:)`
/// (a double-quoted attribute value); nothing from a report is ever used as a URL, a tag or attribute name,
/// a style or a script. The five characters with a meaning in HTML (`&`, `<`, `>`, `"`, `'`) become
/// character references, so `<script>`, `<img onerror=...>` or `javascript:` in an answer stay inert text.
/// Characters that HTML forbids in documents (C0 controls other than tab, line feed and carriage return,
/// DEL, C1 controls and noncharacters) become U+FFFD, one scalar for one scalar, so offsets computed on the
/// text before escaping still hold.
enum HTMLEscaping {
    /// Element content: `&`, `<`, `>`, `"` and `'` as references; forbidden characters as U+FFFD.
    static func text(_ text: some StringProtocol) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars { append(scalar, to: &out) }
        return out
    }

    /// A double-quoted attribute value (write it as `attr="\(attribute(value))"`), escaped as element content,
    /// with line breaks folded to spaces so tooltips stay on one line.
    static func attribute(_ text: some StringProtocol) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if scalar == "\n" || scalar == "\r" || scalar == "\t" { out.append(" ") } else { append(scalar, to: &out) }
        }
        return out
    }

    /// Escapes a run of scalars (a slice of an answer) as element content.
    static func text(scalars: some Sequence<Unicode.Scalar>) -> String {
        var out = ""
        for scalar in scalars { append(scalar, to: &out) }
        return out
    }

    @inline(__always)
    static func append(_ scalar: Unicode.Scalar, to out: inout String) {
        switch scalar {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        case "\t", "\n", "\r": out.unicodeScalars.append(scalar)
        default:
            out.unicodeScalars.append(isForbidden(scalar) ? "\u{FFFD}" : scalar)
        }
    }

    /// Controls and noncharacters, which the HTML standard does not allow in a document.
    static func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        if v < 0x20 || (0x7F...0x9F).contains(v) { return true }
        if (0xFDD0...0xFDEF).contains(v) { return true }
        return v & 0xFFFE == 0xFFFE
    }
}
