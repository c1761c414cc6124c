import ConvergeCore
import ConvergeProviders

/// A model writes a rubric from the prompt alone, before seeing any answer, so that omissions can be found
/// without writing a rubric by hand.
///
/// One request (retried on retryable provider errors); the reply's YAML (a fenced ```yaml block, or the whole
/// reply) must be a rubric `Rubric(yaml:)` accepts; if not, one repair request quotes the error (file, line,
/// field) and asks again. The rubric is returned parsed, and written by the caller in canonical form
/// (`Rubric.yamlText()`), so that nothing half-valid is ever written.
public struct RubricDrafter: Sendable {
    public var client: ModelClient

    public init(client: ModelClient) {
        self.client = client
    }

    /// Why no rubric was drafted.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// The model could not be asked (provider error, timeout), with its message.
        case provider(String)
        /// The reply was not valid rubric YAML, twice; the last error (file, line, field).
        case invalidReply(String)

        public var description: String {
            switch self {
            case .provider(let message): return "the model failed: \(message)"
            case .invalidReply(let message): return "the model's reply was not a valid rubric twice (\(message))"
            }
        }
    }

    /// The drafted rubric and the number of requests it took (1, or 2 after a repair).
    public func draft(prompt: String) async throws(Failure) -> (rubric: Rubric, attempts: Int) {
        var messages: [ChatMessage] = [.system(Self.instructions), .user("# The question\n\n\(prompt.trimmingWhitespace)")]
        for attempt in 1...2 {
            let response: ChatResponse
            do {
                response = try await client.send(messages)
            } catch {
                throw .provider(error.description)
            }
            do {
                let rubric = try Rubric(yaml: Self.yaml(in: response.text), file: "the model's reply")
                guard !rubric.items.isEmpty else { throw InputError(file: "the model's reply", "the rubric has no items") }
                return (rubric, attempt)
            } catch {
                if attempt == 2 { throw .invalidReply(String(describing: error)) }
                messages += [.assistant(response.text), .user("""
                    That is not a valid rubric: \(error). Reply again with the YAML only, exactly in the form given.
                    """)]
            }
        }
        throw .invalidReply("no reply")
    }

    /// The YAML of a reply: the first fenced block (```yaml or ```), else the whole text.
    static func yaml(in text: String) -> String {
        guard let open = text.range(of: "```") else { return text }
        let afterFence = text[open.upperBound...]
        guard let lineEnd = afterFence.firstIndex(of: "\n") else { return text }
        let body = afterFence[afterFence.index(after: lineEnd)...]
        guard let close = body.range(of: "```") else { return String(body) }
        return String(body[..<close.lowerBound])
    }

    public static let instructions = """
        Before any answer is seen, write the rubric a careful expert would use to check answers to the question: \
        the points a complete answer makes, grouped in 3 to 8 categories, each point one idea in plain words \
        (under 15 words), 10 to 30 points in all. Reply with YAML only, in exactly this form:

        title: a short title for the question
        categories:
          - name: a category
            items:
              - id: a-short-id
                text: one point a complete answer makes

        Ids are lower-case words joined by hyphens, each id used once.
        """
}
