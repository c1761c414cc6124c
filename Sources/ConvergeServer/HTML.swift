/// HTML text escaping: every piece of text a page shows goes through `escape`, so answers, labels and errors are
/// shown as text, never as markup (HTML Living Standard, "Serializing HTML fragments": `&`, `<`, `>`, `"`,
/// and `'` so that attribute values in either quote are safe).
enum HTML {
    static func escape(_ text: some StringProtocol) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\u{0}": out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A whole page: `title` is escaped here; `body` must already be HTML built with `escape`.
    static func page(title: String, body: String, signedIn: Bool) -> String {
        """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title)) · Converge</title>
        <style>
        body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45;color:#1d1d1f}
        header{display:flex;justify-content:space-between;align-items:center;border-bottom:1px solid #ddd;margin-bottom:1rem}
        textarea,input[type=text],input[type=password]{width:100%;box-sizing:border-box;font:inherit;padding:.4rem}
        textarea{min-height:8rem;font-family:ui-monospace,monospace;font-size:.9rem}
        fieldset{margin:0 0 1rem;border:1px solid #ccc;border-radius:6px}
        .error{background:#fde8e8;border:1px solid #e0a0a0;padding:.6rem;border-radius:6px}
        pre.report{white-space:pre-wrap;background:#f6f6f6;padding:1rem;border-radius:6px;overflow-x:auto}
        button{font:inherit;padding:.4rem 1rem}
        </style>
        </head>
        <body>
        <header><h1>Converge</h1>\(signedIn ? "<form method=\"post\" action=\"/logout\"><button type=\"submit\">Sign out</button></form>" : "")</header>
        \(body)
        </body>
        </html>

        """
    }
}
