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

    /// A whole page: `title` is escaped here; `body` must already be HTML built with `escape`. `script` is the
    /// path of this server's own script, loaded deferred (the pages' CSP allows nothing else).
    static func page(title: String, body: String, signedIn: Bool, navigation: Bool = true,
                     script: String? = nil) -> String {
        let nav = navigation ? """
            <nav><a href="/surveys">Surveys</a> <a href="/surveys/new">Start a survey</a> <a href="/batches">Batches</a> \
            <a href="/analyze">Analyze answers</a></nav>
            """ : ""
        let signOut = signedIn ? "<form method=\"post\" action=\"/logout\"><button type=\"submit\">Sign out</button></form>" : ""
        return """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title)) · Converge</title>
        <style>
        body{font-family:system-ui,sans-serif;max-width:64rem;margin:1.5rem auto;padding:0 1rem;line-height:1.45;color:#1d1d1f}
        header{display:flex;gap:1.5rem;align-items:center;border-bottom:1px solid #ddd;margin-bottom:1rem;flex-wrap:wrap}
        header h1{margin:.4rem 0;font-size:1.4rem} header nav{display:flex;gap:1rem;flex:1} header form{margin:0}
        textarea,input[type=text],input[type=password]{width:100%;box-sizing:border-box;font:inherit;padding:.4rem}
        textarea{min-height:3rem;font-family:ui-monospace,monospace;font-size:.9rem}
        fieldset{margin:0 0 1rem;border:1px solid #ccc;border-radius:6px}
        .error{background:#fde8e8;border:1px solid #e0a0a0;padding:.6rem;border-radius:6px}
        button{font:inherit;padding:.4rem 1rem} button.danger{color:#9b1c1c}
        table.surveys{border-collapse:collapse;width:100%} \
        table.surveys td,table.surveys th{border-bottom:1px solid #e5e5e5;padding:.35rem .5rem;text-align:left;vertical-align:top}
        .status{font-weight:600} .status[data-status=complete]{color:#1a7f37} .status[data-status=partial]{color:#9a6700}
        .status[data-status=failed]{color:#cf222e} .status[data-status=running]{color:#0969da} .status[data-status=interrupted]{color:#8250df}
        blockquote.prompt{white-space:pre-wrap;margin:.5rem 0;padding:.5rem 1rem;border-left:4px solid #ccc;background:#fafafa}
        article.request{border:1px solid #ddd;border-radius:6px;padding:.3rem .8rem;margin:.6rem 0}
        article.request h4{margin:.3rem 0;font-size:1rem} article.request .state{font-weight:400;color:#666;font-size:.9rem}
        article.request[data-state=answered]{border-color:#9fd4a8} article.request[data-state=failed]{border-color:#e0a0a0}
        article.request[data-state=pending] .state::after,article.request[data-state=retrying] .state::after{content:" …"}
        pre.answer{white-space:pre-wrap;word-wrap:break-word;font-family:inherit;margin:.3rem 0 .6rem;max-height:24rem;overflow:auto}
        .failure{color:#9b1c1c}
        iframe.report{width:100%;height:80vh;border:1px solid #ddd;border-radius:6px}
        blockquote.prompt,pre.answer,.failure,td{overflow-wrap:anywhere;unicode-bidi:isolate}
        .table-wrap{overflow-x:auto} .notice{background:#fff8e1;border:1px solid #e6c86e;padding:.5rem;border-radius:6px}
        @media (max-width:40rem){body{margin:.5rem auto} header nav{flex-wrap:wrap;gap:.6rem}}
        @media print{pre.answer{max-height:none;overflow:visible} header nav,header form,#after,.paging{display:none}
        iframe.report{height:auto}}
        </style>
        \(script.map { "<script src=\"\(escape($0))\" defer></script>\n" } ?? "")</head>
        <body>
        <header><h1>Converge</h1>\(nav)\(signOut)</header>
        <main>
        \(body)
        </main>
        </body>
        </html>

        """
    }
}
