/// The validated rules the adapter serves, looked up by resource and metric name.
///
/// Every rule in a set has been validated, whatever its source: there is no way to build a set that
/// skips the checks.
public struct RuleSet: Sendable {
    /// The rules in configuration order.
    public let rules: [MetricRule]
    private let index: [RuleKey: MetricRule]

    private struct RuleKey: Hashable {
        var resource: String
        var metric: String
    }

    /// Validates the rules.
    ///
    /// - Throws: `RuleError` naming the first rule that is wrong and why.
    public init(rules: [MetricRule]) throws(RuleError) {
        var index: [RuleKey: MetricRule] = [:]
        for (position, rule) in rules.enumerated() {
            let location = "metrics[\(position)] \"\(rule.name)\""
            do {
                try Self.validate(rule)
            } catch {
                throw error.at(location)
            }
            let key = RuleKey(resource: rule.resource, metric: rule.name)
            if index[key] != nil {
                throw RuleError("\(location): another rule already serves \(rule.resource)/\(rule.name)")
            }
            index[key] = rule
        }
        self.rules = rules
        self.index = index
    }

    /// The valid rules of `candidates` (series discovery's), each checked like a configured one; a rule
    /// that fails is passed to `rejected` and left out, and a later rule for the same (resource, metric)
    /// is left out too, as prometheus-adapter keeps the first.
    public init(accepting candidates: [MetricRule], rejected: (MetricRule, RuleError) -> Void) {
        var index: [RuleKey: MetricRule] = [:]
        var rules: [MetricRule] = []
        for rule in candidates {
            let key = RuleKey(resource: rule.resource, metric: rule.name)
            guard index[key] == nil else { continue }
            do {
                try Self.validate(rule)
            } catch {
                rejected(rule, error)
                continue
            }
            index[key] = rule
            rules.append(rule)
        }
        self.rules = rules
        self.index = index
    }

    /// The built-in configuration: the Triton queue-to-compute ratio for pods.
    public static let builtIn: RuleSet = {
        do {
            return try RuleSet(rules: [.tritonQueueComputeRatio])
        } catch {
            fatalError("the built-in rule is invalid: \(error)")
        }
    }()

    /// The rule serving `metric` on `resource`.
    public func rule(resource: String, metric: String) -> MetricRule? {
        index[RuleKey(resource: resource, metric: metric)]
    }

    /// The custom metrics served (discovery), without the external ones.
    public var customMetrics: [MetricRule] { rules.filter { !$0.isExternal } }

    /// The external metrics served.
    public var externalMetrics: [MetricRule] { rules.filter(\.isExternal) }

    private static func validate(_ rule: MetricRule) throws(RuleError) {
        if rule.name.isEmpty || rule.name.contains(where: { $0.isWhitespace || $0 == "/" || $0 == "\"" }) {
            throw RuleError("name must be non-empty, without spaces, quotes or \"/\"")
        }
        if LabelSyntaxCheck.isPlural(rule.resource) == false {
            throw RuleError("resource \"\(rule.resource)\" must be a lower-case plural resource name such as pods")
        }
        for label in [rule.namespaceLabel, rule.nameLabel].compactMap({ $0 }) where !PromQL.isLabelName(label) {
            throw RuleError("\"\(label)\" is not a Prometheus label name")
        }
        if rule.namespaced, rule.namespaceLabel == nil {
            throw RuleError("resource \(rule.resource) is namespaced, so namespaceLabel must name the label holding the namespace")
        }
        if let window = rule.windowSeconds, window <= 0 {
            throw RuleError("window must be at least 1s")
        }
        try rule.query.validate(for: rule)
    }
}

enum LabelSyntaxCheck {
    /// A resource name: lower-case DNS-style, optionally with a group (`deployments.apps`).
    static func isPlural(_ resource: String) -> Bool {
        !resource.isEmpty && resource.allSatisfy { ($0.isASCII && $0.isLowercase) || $0.isNumber || $0 == "." || $0 == "-" }
    }
}
