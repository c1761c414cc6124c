/// The stylesheet of the HTML report, inlined in the page: system fonts, consensus colours (also used by the
/// SVG charts), and a print style (details opened, no navigation, light backgrounds, sensible page breaks).
enum HTMLStyle {
    static let css = """
        :root {
          --ink: #1f2328; --muted: #59636e; --line: #d1d9e0; --soft: #f6f8fa; --accent: #0b57d0;
          --unanimous: #1a7f37; --unanimous-bg: #d2f4dc;
          --majority: #0b57d0; --majority-bg: #d8e6fd;
          --split: #b35900; --split-bg: #ffe4c2;
          --unique: #7d3ac1; --unique-bg: #eadcfb;
          --conflict: #c0262d; --conflict-bg: #ffd8d6;
          --rubric-bg: #fff3b0;
        }
        * { box-sizing: border-box; }
        html { -webkit-text-size-adjust: 100%; }
        body { margin: 0; color: var(--ink); background: #fff;
          font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; }
        main { max-width: 60rem; margin: 0 auto; padding: 0 1.25rem 3rem; }
        h2 { font-size: 1.35rem; margin: 2.4rem 0 .6rem; padding-bottom: .3rem; border-bottom: 1px solid var(--line); }
        h3 { font-size: 1.08rem; margin: 1.4rem 0 .5rem; }
        code { font: .85em/1.4 ui-monospace, "DejaVu Sans Mono", monospace; background: var(--soft);
          padding: .05em .3em; border-radius: 4px; overflow-wrap: anywhere; }
        a { color: var(--accent); }
        .muted { color: var(--muted); }
        .note { background: var(--soft); border-left: 4px solid var(--muted); padding: .5rem .8rem; }
        header.page { display: flex; flex-wrap: wrap; align-items: baseline; gap: .4rem 1.2rem;
          padding: 1rem 0 .6rem; border-bottom: 2px solid var(--ink); }
        header.page .brand { margin: 0; font-weight: 700; font-size: 1.25rem; letter-spacing: .01em; }
        header.page nav { display: flex; flex-wrap: wrap; gap: .2rem .9rem; font-size: .9rem; }
        header.page nav a { text-decoration: none; }
        header.page nav a:hover { text-decoration: underline; }
        blockquote { margin: 0; }
        blockquote.prompt { font-size: 1.15rem; white-space: pre-wrap; overflow-wrap: anywhere;
          border-left: 4px solid var(--accent); background: var(--soft); padding: .7rem 1rem; border-radius: 0 6px 6px 0; }
        table { border-collapse: collapse; width: 100%; font-size: .93rem; }
        th, td { text-align: left; vertical-align: top; padding: .35rem .55rem; border-bottom: 1px solid var(--line); }
        thead th { font-size: .82rem; text-transform: uppercase; letter-spacing: .03em; color: var(--muted);
          border-bottom: 2px solid var(--line); }
        tbody th { font-weight: 500; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
        .status { font-weight: 600; }
        .status.failed { color: var(--conflict); }
        .status.partly { color: var(--split); }
        .status.answered { color: var(--unanimous); }
        .error { font: .85rem/1.4 ui-monospace, "DejaVu Sans Mono", monospace; color: var(--conflict);
          white-space: pre-wrap; overflow-wrap: anywhere; margin-top: .2rem; }
        tr.failed th, tr.failed td { background: #fff6f6; }
        table.panel tr.error-row td { padding-top: 0; }
        table.panel tr:has(+ tr.error-row) > * { border-bottom: 0; }
        table.panel code.id { margin-left: .3rem; font-weight: 400; }
        .jump { font-size: .82rem; white-space: nowrap; }
        .gauge-row { display: flex; flex-wrap: wrap; align-items: center; gap: .5rem 1.5rem; }
        .index { margin: 0; display: flex; align-items: baseline; gap: .6rem; }
        .index .value { font-size: 3rem; font-weight: 700; line-height: 1; font-variant-numeric: tabular-nums; }
        .index .caption { color: var(--muted); }
        svg text { font: 13px system-ui, "DejaVu Sans", sans-serif; fill: var(--ink); }
        svg.gauge .track { fill: #e8ecf0; } svg.gauge .fill { fill: var(--accent); }
        svg.gauge text { fill: var(--muted); font-size: 11px; }
        svg.consensus-bar { max-width: 100%; height: auto; display: block; margin: .4rem 0 .8rem; border-radius: 4px; }
        svg.consensus-bar text { fill: #fff; font-weight: 600; }
        .lvl-unanimous { fill: var(--unanimous); } .lvl-majority { fill: var(--majority); }
        .lvl-split { fill: var(--split); } .lvl-unique { fill: var(--unique); }
        .badge { display: inline-block; font-size: .78rem; font-weight: 600; padding: .05rem .45rem; border-radius: 999px;
          white-space: nowrap; border: 1px solid currentColor; }
        .badge.lvl-unanimous { color: var(--unanimous); background: var(--unanimous-bg); }
        .badge.lvl-majority { color: var(--majority); background: var(--majority-bg); }
        .badge.lvl-split { color: var(--split); background: var(--split-bg); }
        .badge.lvl-unique { color: var(--unique); background: var(--unique-bg); }
        details.pairwise { margin-top: .6rem; }
        details > summary { cursor: pointer; }
        table.matrix { width: auto; } table.matrix td { min-width: 4.5rem; }
        .omissions { margin-top: 2rem; border: 2px solid var(--conflict); border-radius: 8px; padding: .2rem 1.2rem .8rem;
          background: #fff8f7; }
        .omissions h2 { color: var(--conflict); border: 0; margin-top: .8rem; }
        .omissions ul { padding-left: 1.2rem; margin: .3rem 0; }
        .omissions li { font-size: 1.1rem; margin: .3rem 0; }
        .omissions .lead { font-weight: 700; color: var(--conflict); }
        .omissions.covered { border-color: var(--unanimous); background: #f4fbf6; }
        .omissions.covered h2 { color: var(--unanimous); }
        .rubric-title { font-weight: 600; margin: 0 0 .3rem; }
        table.coverage tr.category th { background: var(--soft); font-weight: 700; font-size: .9rem; }
        table.coverage tr.omitted th, table.coverage tr.omitted td { background: #fff1f0; }
        table.coverage tr.omitted td.num { color: var(--conflict); }
        .mark-col { text-align: center; width: 4.2rem; }
        .yes { color: var(--unanimous); font-weight: 700; } .no { color: #b6bec7; }
        .mark-col a { text-decoration: none; }
        .heatmap-scroll { overflow-x: auto; }
        svg.heatmap { display: block; }
        svg.heatmap .empty, .legend .empty { fill: #fff; stroke: #c9d1d9; }
        svg.heatmap .dot { fill: #fff; }
        svg.heatmap text.col { fill: var(--muted); }
        svg.heatmap text.group { font-weight: 700; }
        svg.heatmap .num { fill: var(--muted); font-variant-numeric: tabular-nums; }
        svg.heatmap a text.row { fill: var(--ink); }
        svg.heatmap a:hover text.row { fill: var(--accent); text-decoration: underline; }
        svg.heatmap text.support { fill: var(--muted); font-variant-numeric: tabular-nums; }
        svg.heatmap .rule { stroke: var(--line); }
        .legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .3rem 1.1rem; font-size: .88rem; }
        .legend li { display: flex; align-items: center; gap: .35rem; }
        .kps { display: flex; flex-direction: column; gap: .35rem; }
        details.kp { border: 1px solid var(--line); border-radius: 6px; background: #fff; }
        details.kp > summary { padding: .45rem .7rem; list-style-position: outside; margin-left: 1rem; }
        details.kp > summary .num { font-weight: 700; color: var(--muted); font-variant-numeric: tabular-nums; margin-right: .2rem; }
        details.kp > summary .label { font-weight: 600; }
        details.kp > summary .support { font-variant-numeric: tabular-nums; color: var(--muted); margin: 0 .2rem; }
        details.kp > summary .who { color: var(--muted); font-size: .9rem; }
        details.kp[open] > summary { border-bottom: 1px solid var(--line); }
        details.kp:has(> .kp-anchor:target) { outline: 3px solid var(--accent); }
        .kp-anchor { display: block; scroll-margin-top: 4rem; }
        .kp-body { padding: .3rem .9rem .6rem; }
        .rubric-item, .stability { font-size: .9rem; color: var(--muted); margin: .3rem 0; }
        ol.quotes { list-style: none; padding: 0; margin: .3rem 0 0; }
        ol.quotes li { margin: .55rem 0; }
        .who { font-weight: 600; font-size: .9rem; }
        blockquote.ctx { margin: .15rem 0 0; padding: .15rem 0 .15rem .8rem; border-left: 3px solid var(--line);
          white-space: pre-wrap; overflow-wrap: anywhere; }
        mark { color: inherit; border-radius: 3px; padding: 0 .05em; -webkit-box-decoration-break: clone; box-decoration-break: clone; }
        mark.lvl-unanimous { background: var(--unanimous-bg); box-shadow: inset 0 -2px var(--unanimous); }
        mark.lvl-majority { background: var(--majority-bg); box-shadow: inset 0 -2px var(--majority); }
        mark.lvl-split { background: var(--split-bg); box-shadow: inset 0 -2px var(--split); }
        mark.lvl-unique { background: #f4eefc; box-shadow: inset 0 -1px var(--unique); }
        mark.conflict { background: var(--conflict-bg); box-shadow: inset 0 -2px var(--conflict); }
        mark.rubric { background: var(--rubric-bg); }
        mark.judge { background: var(--rubric-bg); box-shadow: inset 0 -1px var(--line); }
        ul.synthesis li { margin: .3rem 0; }
        article.claim { margin: .6rem 0; }
        .sides { display: grid; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); gap: .7rem; }
        .side { border: 1px solid var(--line); border-top: 4px solid var(--conflict); border-radius: 6px; padding: .5rem .7rem; }
        .side .value { font-size: 1.4rem; font-weight: 700; margin: .2rem 0 .4rem; overflow-wrap: anywhere; }
        article.answer { border: 1px solid var(--line); border-radius: 8px; margin: 1rem 0; }
        article.answer h3 { margin: 0; padding: .55rem .9rem; background: var(--soft); border-bottom: 1px solid var(--line);
          border-radius: 8px 8px 0 0; }
        article.answer .model { font: 400 .85rem ui-monospace, "DejaVu Sans Mono", monospace; color: var(--muted); margin-left: .4rem; }
        .answer-text { padding: .7rem .9rem; white-space: pre-wrap; overflow-wrap: anywhere; font-size: .95rem; }
        a.ref { font-size: .7rem; font-weight: 700; vertical-align: super; line-height: 0; text-decoration: none;
          margin: 0 .1em; }
        .anchor { scroll-margin-top: 2rem; }
        .anchor:target + mark { outline: 3px solid var(--accent); }
        footer.page { margin-top: 3rem; padding-top: .6rem; border-top: 1px solid var(--line); color: var(--muted); font-size: .85rem; }
        @media (max-width: 40rem) { .index .value { font-size: 2.2rem; } main { padding: 0 .7rem 2rem; }
          table { display: block; overflow-x: auto; } }
        @media print {
          @page { margin: 16mm 14mm; }
          body { font-size: 10.5pt; }
          main { max-width: none; padding: 0; }
          header.page nav, .jump, a.ref { display: none; }
          a { color: inherit; text-decoration: none; }
          details > summary { list-style: none; }
          details > summary::-webkit-details-marker { display: none; }
          details::details-content { content-visibility: visible; display: block; }
          ol.quotes li, details.kp > summary, .side, .omissions, tr { break-inside: avoid; }
          h2, h3 { break-after: avoid; }
          blockquote.prompt, .note, article.answer h3, table.coverage tr.category th, .omissions,
          tr.failed th, tr.failed td, table.coverage tr.omitted th, table.coverage tr.omitted td { background: none; }
          mark, .badge, svg, .matrix td { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
          .heatmap-scroll { overflow: visible; }
          svg.heatmap { max-width: 100%; max-height: 240mm; width: auto; height: auto; break-inside: avoid; }
          section#answers { break-before: page; }
        }

        """
}
