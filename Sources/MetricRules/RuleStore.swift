import Synchronization

/// The rules in force, swapped whole when the configuration file changes.
///
/// A request reads `current` once and uses that snapshot to the end, so no request ever sees part of an
/// old configuration and part of a new one.
public final class RuleStore: Sendable {
    private let rules: Mutex<(set: RuleSet, generation: UInt64)>

    public init(_ rules: RuleSet) {
        self.rules = Mutex((rules, 0))
    }

    /// The rules now; a value, unaffected by later swaps.
    public var current: RuleSet {
        rules.withLock { $0.set }
    }

    /// A number that changes with every swap (kept answers are keyed by it).
    public var generation: UInt64 {
        rules.withLock { $0.generation }
    }

    /// Installs a validated rule set for every later request.
    public func replace(with newRules: RuleSet) {
        rules.withLock { $0 = (newRules, $0.generation + 1) }
    }
}
