#!/usr/bin/env python3
"""Check a Converge report: JSON Schema validity and the quote contract.

Usage:
    check-report.py SCHEMA REPORT.json [ANSWER_DIR_OR_FILE ...]

1. Validates REPORT.json against SCHEMA (JSON Schema draft 2020-12, jsonschema.Draft202012Validator).
2. Checks every quote against the answers: for each evidence item (keyPoints[].evidence, terms[].evidence,
   rubric.items[].evidence, the judge's verified claims and contradiction sides) and each conflict value
   (conflicts[].values[]), the answer of that panelist must satisfy text[start:end] == quote, with offsets in
   Unicode code points (schema/report-v1.json).

Answers are given as folders (every *.md, *.txt and *.markdown file in them) and/or files; a file's stem is
the panelist id. Files are read exactly: UTF-8, no newline translation. With no answers given, only the
schema is checked.

Output: `ok: N quotes checked` and exit status 0, or one line per violation and exit status 1.
Exit status 2 for usage errors (missing file, invalid JSON, jsonschema not installed).
"""

import argparse
import json
import os
import sys

ANSWER_EXTENSIONS = (".md", ".txt", ".markdown")


def fail_usage(message):
    print(f"check-report: {message}", file=sys.stderr)
    sys.exit(2)


def load_json(path, what):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except OSError as e:
        fail_usage(f"cannot read {what} {path}: {e.strerror}")
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        fail_usage(f"{what} {path} is not valid JSON: {e}")


def read_answers(paths):
    """Maps panelist id (file stem) to the answer text, read exactly."""
    files = []
    for path in paths:
        if os.path.isdir(path):
            for name in sorted(os.listdir(path)):
                full = os.path.join(path, name)
                if not name.startswith(".") and os.path.isfile(full) and name.lower().endswith(ANSWER_EXTENSIONS):
                    files.append(full)
        elif os.path.isfile(path):
            files.append(path)
        else:
            fail_usage(f"no such answer file or folder: {path}")
    answers = {}
    for path in files:
        stem = os.path.splitext(os.path.basename(path))[0]
        try:
            with open(path, encoding="utf-8", newline="") as f:
                answers[stem] = f.read()
        except UnicodeDecodeError as e:
            fail_usage(f"answer {path} is not valid UTF-8: {e}")
    return answers


def json_path(parts):
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def quoted_items(report):
    """Yields (location, item) for every object that carries panelist/quote/start/end."""
    def items(value, path):
        return [(path + [i], x) for i, x in enumerate(value)] if isinstance(value, list) else []

    for kp_path, kp in items(report.get("keyPoints"), ["keyPoints"]):
        if isinstance(kp, dict):
            yield from items(kp.get("evidence"), kp_path + ["evidence"])
    for term_path, term in items(report.get("terms"), ["terms"]):
        if isinstance(term, dict):
            yield from items(term.get("evidence"), term_path + ["evidence"])
    for c_path, conflict in items(report.get("conflicts"), ["conflicts"]):
        if isinstance(conflict, dict):
            yield from items(conflict.get("values"), c_path + ["values"])
    rubric = report.get("rubric")
    if isinstance(rubric, dict):
        for item_path, item in items(rubric.get("items"), ["rubric", "items"]):
            if isinstance(item, dict):
                yield from items(item.get("evidence"), item_path + ["evidence"])
    judge = report.get("judge")
    if isinstance(judge, dict):
        for kind in ("consensus", "unique"):
            for claim_path, claim in items(judge.get(kind), ["judge", kind]):
                if isinstance(claim, dict):
                    yield from items(claim.get("evidence"), claim_path + ["evidence"])
        for c_path, contradiction in items(judge.get("contradictions"), ["judge", "contradictions"]):
            if isinstance(contradiction, dict):
                for side_path, side in items(contradiction.get("sides"), c_path + ["sides"]):
                    if isinstance(side, dict) and isinstance(side.get("evidence"), dict):
                        yield side_path + ["evidence"], side["evidence"]


def check_quotes(report, answers):
    """Returns (number of quotes checked, violations)."""
    violations = []
    checked = 0
    known = {p.get("id") for p in report.get("panelists", []) if isinstance(p, dict)}
    for path, item in quoted_items(report):
        where = json_path(path)
        if not isinstance(item, dict):
            continue  # reported by the schema check
        panelist, quote, start, end = (item.get(k) for k in ("panelist", "quote", "start", "end"))
        if not (isinstance(panelist, str) and isinstance(quote, str)
                and type(start) is int and type(end) is int):
            continue  # reported by the schema check
        checked += 1
        if panelist not in known:
            violations.append(f"{where}: panelist {panelist!r} is not in the report's panelists")
        if panelist not in answers:
            violations.append(f"{where}: no answer file for panelist {panelist!r}")
            continue
        text = answers[panelist]
        if not 0 <= start <= end <= len(text):
            violations.append(f"{where}: offsets {start}..{end} are outside {panelist}'s answer "
                              f"(0..{len(text)}) or reversed")
            continue
        actual = text[start:end]
        if actual != quote:
            violations.append(f"{where}: {panelist}[{start}:{end}] is {actual!r}, but the quote is {quote!r}")
    return checked, violations


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("schema", help="JSON Schema file (schema/report-v1.json)")
    parser.add_argument("report", help="report JSON file")
    parser.add_argument("answers", nargs="*", help="survey folders and/or answer files (stem = panelist id)")
    args = parser.parse_args()

    try:
        from jsonschema import Draft202012Validator
    except ImportError:
        fail_usage("the jsonschema package is required (pip install jsonschema)")

    schema = load_json(args.schema, "schema")
    report = load_json(args.report, "report")
    answers = read_answers(args.answers)

    try:
        Draft202012Validator.check_schema(schema)
    except Exception as e:  # jsonschema.exceptions.SchemaError
        fail_usage(f"schema {args.schema} is not a valid draft 2020-12 schema: {getattr(e, 'message', e)}")
    validator = Draft202012Validator(schema)
    violations = [f"schema: {json_path(e.absolute_path)}: {e.message}"
                  for e in sorted(validator.iter_errors(report), key=lambda e: list(map(str, e.absolute_path)))]

    checked = 0
    if args.answers and isinstance(report, dict):
        checked, quote_violations = check_quotes(report, answers)
        violations += quote_violations

    if violations:
        for line in violations:
            print(line)
        print(f"FAILED: {len(violations)} problem(s)", file=sys.stderr)
        return 1
    print(f"ok: {checked} quotes checked")
    return 0


if __name__ == "__main__":
    sys.exit(main())
