import MCP

/// The tools Converge offers, each with its JSON input schema. Argument names are the command line's flags in
/// snake case (`--max-tokens` is `max_tokens`); each tool's result is structured (the report JSON, or the
/// survey rows) with a short text summary.
enum ToolCatalog {
    static let analyze = "analyze", ask = "ask", surveyGet = "survey_get", surveyList = "survey_list"
    static let followUp = "follow_up", surveyResume = "survey_resume", reanalyze = "reanalyze", models = "models"

    static let tools: [Tool] = [
        Tool(name: analyze, title: "Analyze answers",
             description: """
                Consolidate answers you already have into evidence-linked key points, conflicts and omissions \
                (as `converge analyze`). Give `paths` (survey folders or answer files; `converge mcp` only) or \
                `answers` (id and text each). No model is called.
                """,
             inputSchema: object([
                "paths": strings("Survey folders (prompt.md, one answer file per panelist, rubric.yaml) or answer files."),
                "answers": .object([
                    "type": "array", "description": "Answers given inline, one per panelist.",
                    "items": object(["id": string("Panelist id."), "text": string("The answer."),
                                     "label": string("Display label (default: the id).")], required: ["id", "text"]),
                ]),
                "prompt": string("The prompt the answers reply to."),
                "rubric": string("Rubric YAML file to check coverage against (overrides a folder's rubric.yaml)."),
                "rubric_yaml": rubricYAML,
                "no_rubric": boolean("Ignore rubric.yaml in survey folders."),
                "similarity": enumeration(["lexical", "embedding", "hybrid"], "How statements are matched."),
                "blind": boolean("Report panelists as AI 1, AI 2, ... and hide their models."),
                "format": format,
             ]),
             annotations: .init(readOnlyHint: true)),
        Tool(name: ask, title: "Ask a panel",
             description: """
                Put a prompt (and follow-ups) to a live panel of models and consolidate the answers (as `converge ask`). \
                The survey is stored before the first request; its id is in the first progress notification, and \
                with `wait: false` it is returned at once while the survey runs on. Cancelling stops the survey and \
                leaves it resumable; `survey_get` fetches the report later.
                """,
             inputSchema: object([
                "prompt": string("The prompt."),
                "models": strings("Panelists' model specs, provider/model (openai/gpt-4o, anthropic/..., a provider of converge.yaml)."),
                "panel": string("A named panel of converge.yaml."),
                "follow_ups": strings("Follow-up prompts, each sent to every panelist in its own thread."),
                "system": string("A system prompt for every panelist."),
                "samples": integer("Answers drawn from each panelist per turn (default 1).", minimum: 1),
                "temperature": number("Sampling temperature."),
                "max_tokens": integer("Most tokens each answer may have.", minimum: 1),
                "timeout": number("Per-request timeout in seconds."),
                "concurrency": integer("Most requests in flight, overall and for each provider.", minimum: 1),
                "rubric": string("Rubric YAML file to check the last turn's answers against."),
                "rubric_yaml": rubricYAML,
                "judge": string("A judge model spec, asked once the panel has answered."),
                "blind": boolean("Report panelists as AI 1, AI 2, ... and hide their models."),
                "no_cache": boolean("Send every request, even one whose answer is already stored."),
                "wait": boolean("Wait for the report (default true); false returns the survey id at once."),
                "format": format,
             ], required: ["prompt"]),
             annotations: .init(openWorldHint: true)),
        Tool(name: surveyGet, title: "Get a survey",
             description: "A stored survey: its status, panel, turns and newest report (as `converge surveys show`).",
             inputSchema: object(["id": string("Survey id (or a unique prefix)."), "format": format], required: ["id"]),
             annotations: .init(readOnlyHint: true)),
        Tool(name: surveyList, title: "List surveys",
             description: "Stored surveys, newest first: id, status, created, panel size, prompt (as `converge surveys list`).",
             inputSchema: object(["limit": integer("Most surveys to list (default 50).", minimum: 1),
                                  "offset": integer("Surveys to skip (for paging).", minimum: 0)]),
             annotations: .init(readOnlyHint: true)),
        Tool(name: followUp, title: "Follow up",
             description: """
                Ask a stored survey's panel a follow-up, in each panelist's own thread (as `converge follow-up`); \
                progress and cancellation as for `ask`.
                """,
             inputSchema: object([
                "id": string("Survey id (or a unique prefix)."), "prompt": string("The follow-up prompt."),
                "timeout": number("Per-request timeout in seconds (default: the survey's)."),
                "concurrency": integer("Most requests in flight (default: the survey's).", minimum: 1),
                "no_cache": boolean("Do not answer from other surveys' stored answers."),
                "wait": boolean("Wait for the report (default true)."),
                "blind": boolean("Report panelists as AI 1, AI 2, ..."), "format": format,
             ], required: ["id", "prompt"]),
             annotations: .init(openWorldHint: true)),
        Tool(name: surveyResume, title: "Resume a survey",
             description: """
                Finish a stored survey that was interrupted or cancelled: only the requests without a stored answer \
                are sent (as `converge surveys resume`); progress and cancellation as for `ask`.
                """,
             inputSchema: object([
                "id": string("Survey id (or a unique prefix)."),
                "timeout": number("Per-request timeout in seconds (default: the survey's)."),
                "concurrency": integer("Most requests in flight (default: the survey's).", minimum: 1),
                "no_cache": boolean("Do not answer from other surveys' stored answers."),
                "wait": boolean("Wait for the report (default true)."),
                "blind": boolean("Report panelists as AI 1, AI 2, ..."), "format": format,
             ], required: ["id"]),
             annotations: .init(openWorldHint: true)),
        Tool(name: reanalyze, title: "Reanalyze a survey",
             description: "Analyse a stored survey's answers again and store the new analysis; no model is called.",
             inputSchema: object([
                "id": string("Survey id (or a unique prefix)."),
                "rubric": string("Rubric YAML file to use instead of the survey's own."),
                "rubric_yaml": rubricYAML,
                "similarity": enumeration(["lexical", "embedding", "hybrid"], "How statements are matched."),
                "blind": boolean("Report panelists as AI 1, AI 2, ..."), "format": format,
             ], required: ["id"])),
        Tool(name: models, title: "Providers and keys",
             description: "The providers configured, their base URLs and whether each API key is set (never a key).",
             inputSchema: object([:]),
             annotations: .init(readOnlyHint: true)),
    ]

    static let names = Set(tools.map(\.name))

    static let rubricYAML = string("The rubric's YAML text (title, categories: [{name, items: [{id, text}]}]), instead of a file.")

    static let format = enumeration(["json", "md"], "json (default): the report as structured content; md adds the Markdown report.")

    static func object(_ properties: [String: Value], required: [String] = []) -> Value {
        var schema: [String: Value] = ["type": "object", "properties": .object(properties), "additionalProperties": false]
        if !required.isEmpty { schema["required"] = .array(required.map { .string($0) }) }
        return .object(schema)
    }

    static func string(_ description: String) -> Value { .object(["type": "string", "description": .string(description)]) }
    static func boolean(_ description: String) -> Value { .object(["type": "boolean", "description": .string(description)]) }
    static func number(_ description: String) -> Value { .object(["type": "number", "description": .string(description)]) }

    static func integer(_ description: String, minimum: Int) -> Value {
        .object(["type": "integer", "description": .string(description), "minimum": .int(minimum)])
    }

    static func strings(_ description: String) -> Value {
        .object(["type": "array", "items": ["type": "string"], "description": .string(description)])
    }

    static func enumeration(_ cases: [String], _ description: String) -> Value {
        .object(["type": "string", "enum": .array(cases.map { .string($0) }), "description": .string(description)])
    }
}
