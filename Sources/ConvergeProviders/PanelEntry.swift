import ConvergeCore
import Foundation
import Yams

/// One member of a named panel in the config file: a spec and, optionally, the panelist's id and label.
public struct PanelEntry: Sendable, Hashable {
    public var spec: ModelSpec
    public var id: String?
    public var label: String?
    /// This panelist's own system prompt and temperature (`system:`, `temperature:`), when set.
    public var system: String?
    public var temperature: Double?

    public init(spec: ModelSpec, id: String? = nil, label: String? = nil, system: String? = nil,
                temperature: Double? = nil) {
        self.spec = spec
        self.id = id
        self.label = label
        self.system = system
        self.temperature = temperature
    }

    /// Panelists for the entries, in order: a given id/label is kept; otherwise as
    /// ``ModelSpec/panelists(for:)``. Ids stay unique (`-2`, `-3` appended to repeats).
    public static func panelists(for entries: [PanelEntry]) -> [Panelist] {
        let defaults = ModelSpec.panelists(for: entries.map(\.spec))
        var used = Set<String>()
        let panelists = zip(entries, defaults).map { entry, fallback in
            var id = entry.id ?? fallback.id
            if used.contains(id) {
                var n = 2
                while used.contains("\(id)-\(n)") { n += 1 }
                id = "\(id)-\(n)"
            }
            used.insert(id)
            // A panelist given an id but no label is shown by its id ("cold", not the shared spec).
            let label = entry.label ?? (entry.id != nil ? id : fallback.label)
            return Panelist(id: id, label: label, model: entry.spec.description)
        }
        // Labels must tell panelists apart: a repeated one gets its id added.
        var counts: [String: Int] = [:]
        for p in panelists { counts[p.label, default: 0] += 1 }
        return panelists.map { p in
            counts[p.label]! > 1 ? Panelist(id: p.id, label: "\(p.label) (\(p.id))", model: p.model) : p
        }
    }
}
