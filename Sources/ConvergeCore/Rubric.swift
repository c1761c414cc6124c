import Yams

/// Points a good answer is expected to make, grouped in categories (README.md, "Analyze answers you already
/// have"; examples/senior-backend/rubric.yaml).
///
/// ```yaml
/// title: Senior backend software engineer
/// categories:
///   - name: Experience
///     items:
///       - id: years
///         text: Five or more years of professional backend experience
/// ```
public struct Rubric: Sendable, Hashable, Codable {
    public struct Item: Sendable, Hashable, Codable {
        public var id: String
        public var text: String
        public init(id: String, text: String) {
            self.id = id
            self.text = text
        }
    }

    public struct Category: Sendable, Hashable, Codable {
        public var name: String
        public var items: [Item]
        public init(name: String, items: [Item]) {
            self.name = name
            self.items = items
        }
    }

    public var title: String
    public var categories: [Category]

    public init(title: String, categories: [Category]) {
        self.title = title
        self.categories = categories
    }

    /// Every item with its category name, in document order.
    public var items: [(category: String, item: Item)] {
        categories.flatMap { category in category.items.map { (category.name, $0) } }
    }

    /// Parses rubric YAML.
    ///
    /// - Parameters:
    ///   - yaml: the document.
    ///   - file: the file name used in error messages.
    /// - Throws: `InputError` naming the file, line, column and field for YAML syntax errors, missing or
    ///   mistyped fields, empty categories, and duplicate item ids.
    public init(yaml: String, file: String = "rubric.yaml") throws {
        let root: Node?
        // A byte order mark is not part of the document.
        let yaml = yaml.hasPrefix("\u{FEFF}") ? String(yaml.unicodeScalars.dropFirst()) : yaml
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw Self.inputError(error, file: file)
        }
        guard let root, let mapping = root.mapping else {
            throw InputError(file: file, line: root?.mark?.line, "a rubric is a mapping with `title` and `categories`")
        }
        func value(_ key: String, in mapping: Node.Mapping) -> Node? {
            mapping.first { $0.key.string == key }?.value
        }
        func string(_ key: String, in mapping: Node.Mapping, at path: String) throws -> String {
            guard let node = value(key, in: mapping) else {
                throw InputError(file: file, line: mapping.mark?.line, column: mapping.mark?.column, field: path,
                                 "missing `\(key)`")
            }
            guard node.scalar != nil, let text = node.string?.trimmingWhitespace, !text.isEmpty else {
                throw InputError(file: file, line: node.mark?.line, column: node.mark?.column,
                                 field: "\(path).\(key)", "`\(key)` must be a non-empty string")
            }
            return text
        }
        let title = try string("title", in: mapping, at: "rubric")
        guard let categoriesNode = value("categories", in: mapping) else {
            throw InputError(file: file, line: mapping.mark?.line, field: "rubric", "missing `categories`")
        }
        guard let categoryNodes = categoriesNode.sequence, !categoryNodes.isEmpty else {
            throw InputError(file: file, line: categoriesNode.mark?.line, column: categoriesNode.mark?.column,
                             field: "categories", "`categories` must be a non-empty list")
        }
        var categories: [Category] = []
        var seen: [String: Int] = [:]
        for (c, categoryNode) in categoryNodes.enumerated() {
            let path = "categories[\(c)]"
            guard let categoryMap = categoryNode.mapping else {
                throw InputError(file: file, line: categoryNode.mark?.line, column: categoryNode.mark?.column,
                                 field: path, "a category is a mapping with `name` and `items`")
            }
            let name = try string("name", in: categoryMap, at: path)
            guard let itemsNode = value("items", in: categoryMap), let itemNodes = itemsNode.sequence,
                  !itemNodes.isEmpty else {
                throw InputError(file: file, line: categoryMap.mark?.line, column: categoryMap.mark?.column,
                                 field: "\(path).items", "`items` must be a non-empty list")
            }
            var items: [Item] = []
            for (i, itemNode) in itemNodes.enumerated() {
                let itemPath = "\(path).items[\(i)]"
                guard let itemMap = itemNode.mapping else {
                    throw InputError(file: file, line: itemNode.mark?.line, column: itemNode.mark?.column,
                                     field: itemPath, "an item is a mapping with `id` and `text`")
                }
                let id = try string("id", in: itemMap, at: itemPath)
                let text = try string("text", in: itemMap, at: itemPath)
                let line = value("id", in: itemMap)?.mark?.line ?? 0
                if let first = seen[id] {
                    throw InputError(file: file, line: line, field: "\(itemPath).id",
                                     "duplicate rubric id `\(id)` (first used on line \(first))")
                }
                seen[id] = line
                items.append(Item(id: id, text: text))
            }
            categories.append(Category(name: name, items: items))
        }
        self.init(title: title, categories: categories)
    }

    private static func inputError(_ error: YamlError, file: String) -> InputError {
        switch error {
        case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _),
             let .composer(context, problem, mark, _):
            let detail = context.map { "\(problem) (\($0.text) at line \($0.mark.line), column \($0.mark.column))" }
                ?? problem
            return InputError(file: file, line: mark.line, column: mark.column, "YAML error: \(detail)")
        case let .duplicatedKeysInMapping(duplicates, context):
            return InputError(file: file, line: context.mark.line, column: context.mark.column,
                              "YAML error: duplicate key \(duplicates.joined(separator: ", "))")
        case let .reader(problem, offset, _, _):
            return InputError(file: file, "YAML error: \(problem)\(offset.map { " at byte \($0)" } ?? "")")
        default:
            return InputError(file: file, "YAML error: \(error)")
        }
    }
}

extension String {
    /// The string without leading and trailing white space and newlines.
    public var trimmingWhitespace: String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[first...last])
    }
}
