import ConvergeCore
import MCP

/// The prompt template "ask my panel about X": a user message that has the assistant call `ask` with the
/// question and a panel (the config's named panel, or model specs), then read the report's evidence.
enum PanelPrompt {
    static let name = "ask_panel"

    static let prompt = Prompt(
        name: name, title: "Ask my panel about…",
        description: "Put a question to your panel of models with Converge and summarise where they agree, split and what they omit.",
        arguments: [
            .init(name: "question", description: "What to ask the panel.", required: true),
            .init(name: "panel", description: "A named panel of converge.yaml, or model specs separated by commas."),
        ])

    static func get(_ params: GetPrompt.Parameters, context: MCPContext) throws -> GetPrompt.Result {
        guard params.name == name else {
            throw MCPError.invalidParams("name: unknown prompt `\(params.name)` (known: \(name))")
        }
        guard let question = params.arguments?["question"], !question.trimmingWhitespace.isEmpty else {
            throw MCPError.invalidParams("question: is required")
        }
        let panel = params.arguments?["panel"]?.trimmingWhitespace ?? ""
        let panelArgument: String
        if panel.isEmpty {
            let named = context.config.panels.keys.sorted()
            panelArgument = named.first.map { "`panel: \"\($0)\"`" }
                ?? "`models` (see the `models` tool for the providers whose keys are set)"
        } else if context.config.panels[panel] != nil {
            panelArgument = "`panel: \"\(panel)\"`"
        } else {
            let specs = panel.split(separator: ",").map { "\"\(String($0).trimmingWhitespace)\"" }.joined(separator: ", ")
            panelArgument = "`models: [\(specs)]`"
        }
        let text = """
            Ask my panel of AI models this question with Converge's `ask` tool, with \(panelArgument):

            \(question)

            Then tell me, from the report and its quotes: the points they all make, where they split or conflict \
            (with the values each gives), and what none of them mentions. Name a panelist's failure if there is one.
            """
        return .init(description: "Ask the panel: \(question)", messages: [.user(.text(text: text))])
    }
}
