/// How widely a key point is supported, from its support `s` out of `n` answering panelists (ARCHITECTURE.md, "Terms"):
/// `unanimous` (s = n), `majority` (n/2 < s < n), `split` (2 <= s <= n/2), `unique` (s = 1).
///
/// With fewer than two panelists there is no consensus to measure; every point is `unique` then.
public enum ConsensusLevel: String, Sendable, Codable, CaseIterable, Comparable {
    case unanimous, majority, split, unique

    /// - Parameters:
    ///   - support: number of distinct panelists that make the point (>= 1).
    ///   - panelSize: number of panelists that answered.
    public init(support: Int, panelSize: Int) {
        if panelSize < 2 || support <= 1 {
            self = .unique
        } else if support >= panelSize {
            self = .unanimous
        } else if 2 * support > panelSize {
            self = .majority
        } else {
            self = .split
        }
    }

    /// Order from the widest agreement to the narrowest.
    public static func < (lhs: ConsensusLevel, rhs: ConsensusLevel) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }

    /// A heading for this level in human-readable reports.
    public var title: String {
        switch self {
        case .unanimous: "Unanimous"
        case .majority: "Majority"
        case .split: "Split"
        case .unique: "Unique"
        }
    }
}
