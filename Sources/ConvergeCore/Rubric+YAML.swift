import Yams

extension Rubric {
    /// The rubric as YAML in the form `Rubric(yaml:)` reads (`title`, then `categories`, each with `name` and
    /// `items` of `id` and `text`), so that what is written can always be read back.
    public func yamlText() throws -> String {
        try YAMLEncoder().encode(self)
    }
}
