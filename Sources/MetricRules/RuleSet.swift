import Yams

/// The validated rules the adapter serves, looked up by resource and metric name.
public struct RuleSet: Sendable {
    /// The rules in configuration order.
    public let rules: [MetricRule]
    private let templates: [RuleKey: (MetricRule, QueryBuilder)]

    private struct RuleKey: Hashable {
        var resource: String
        var metric: String
    }

    /// Validates the rules.
    ///
    /// - Throws: `RuleError` naming the first rule that is wrong and why.
    public init(rules: [MetricRule]) throws(RuleError) {
        var templates: [RuleKey: (MetricRule, QueryBuilder)] = [:]
        for (index, rule) in rules.enumerated() {
            let location = "metrics[\(index)] \"\(rule.name)\""
            let template: QueryTemplate
            do {
                template = try Self.validate(rule)
            } catch {
                throw error.at(location)
            }
            let key = RuleKey(resource: rule.resource, metric: rule.name)
            if templates[key] != nil {
                throw RuleError("\(location): another rule already serves \(rule.resource)/\(rule.name)")
            }
            templates[key] = (rule, .template(template))
        }
        self.rules = rules
        self.templates = templates
    }

    /// Rules found by series discovery (prometheus-adapter's config), each with its own query function.
    ///
    /// Discovery already validated them and resolved name clashes; a later entry for the same
    /// (resource, metric) is ignored, as prometheus-adapter keeps the first.
    public init(discovered: [(MetricRule, QueryBuilder)]) {
        var templates: [RuleKey: (MetricRule, QueryBuilder)] = [:]
        var rules: [MetricRule] = []
        for (rule, builder) in discovered {
            let key = RuleKey(resource: rule.resource, metric: rule.name)
            guard templates[key] == nil else { continue }
            templates[key] = (rule, builder)
            rules.append(rule)
        }
        self.rules = rules
        self.templates = templates
    }

    /// The built-in configuration: the Triton queue-to-compute ratio for pods.
    public static let builtIn: RuleSet = {
        do {
            return try RuleSet(rules: [.tritonQueueComputeRatio])
        } catch {
            fatalError("the built-in rule is invalid: \(error)")
        }
    }()

    /// The rule serving `metric` on `resource`, with its parsed template.
    public func rule(resource: String, metric: String) -> (MetricRule, QueryBuilder)? {
        templates[RuleKey(resource: resource, metric: metric)]
    }

    private static func validate(_ rule: MetricRule) throws(RuleError) -> QueryTemplate {
        if rule.name.isEmpty || rule.name.contains(where: { $0.isWhitespace || $0 == "/" || $0 == "\"" }) {
            throw RuleError("name must be non-empty, without spaces, quotes or \"/\"")
        }
        if LabelSyntaxCheck.isPlural(rule.resource) == false {
            throw RuleError("resource \"\(rule.resource)\" must be a lower-case plural resource name such as pods")
        }
        for label in rule.groupByLabels where !PromQL.isLabelName(label) {
            throw RuleError("\"\(label)\" is not a Prometheus label name")
        }
        if rule.namespaced, rule.namespaceLabel == nil {
            throw RuleError("resource \(rule.resource) is namespaced, so namespaceLabel must name the label holding the namespace")
        }
        if rule.windowSeconds <= 0 {
            throw RuleError("window must be at least 1s")
        }
        let template = try QueryTemplate(rule.query)
        if !template.placeholders.contains(.labelMatchers) {
            throw RuleError("query must use <<.LabelMatchers>>: without it a request for one namespace would read every namespace")
        }
        if !rule.isExternal, !template.placeholders.contains(.groupBy) {
            throw RuleError("query must use <<.GroupBy>> (for example `sum by (<<.GroupBy>>) (...)`) so that each object gets its own series")
        }
        return template
    }
}

enum LabelSyntaxCheck {
    /// A resource name: lower-case DNS-style, optionally with a group (`deployments.apps`).
    static func isPlural(_ resource: String) -> Bool {
        !resource.isEmpty && resource.allSatisfy { ($0.isASCII && $0.isLowercase) || $0.isNumber || $0 == "." || $0 == "-" }
    }
}
