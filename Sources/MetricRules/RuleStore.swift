import Synchronization

/// The rules in force, swapped whole when the configuration file changes.
///
/// A request reads `current` once and uses that snapshot to the end, so no request ever sees part of an
/// old configuration and part of a new one.
public final class RuleStore: Sendable {
    private let rules: Mutex<RuleSet>

    public init(_ rules: RuleSet) {
        self.rules = Mutex(rules)
    }

    /// The rules now; a value, unaffected by later swaps.
    public var current: RuleSet {
        rules.withLock { $0 }
    }

    /// Installs a validated rule set for every later request.
    public func replace(with newRules: RuleSet) {
        rules.withLock { $0 = newRules }
    }
}
