import CustomMetricsAPI
import MetricRules
import Yams

/// A prometheus-adapter configuration file (its `--config`), read as prometheus-adapter reads it, so a
/// team replacing it keeps its file. Named after prometheus-adapter's Go type for the file,
/// `config.MetricsDiscoveryConfig`.
///
/// ```yaml
/// rules:           # custom.metrics.k8s.io: metrics about Kubernetes objects
/// - seriesQuery: '{__name__=~"^container_.*",container!="POD",namespace!="",pod!=""}'
///   resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}
///   name: {matches: "^container_(.*)_seconds_total$"}
///   metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>,container!="POD"}[5m])) by (<<.GroupBy>>)
/// externalRules:   # external.metrics.k8s.io: metrics about nothing in the cluster
/// - seriesQuery: '{__name__="queue_depth",topic!=""}'
///   resources: {namespaced: false}
///   metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (name)
/// ```
///
/// Reading is strict, like prometheus-adapter's `yaml.UnmarshalStrict`: an unknown key anywhere is an
/// error. Beyond what prometheus-adapter checks at start, a rule that could never answer is refused
/// with the reason (an empty `seriesQuery` or `metricsQuery`, a custom rule that names no resource, a
/// namespaced rule with no label for namespaces), and `resourceRules` is refused: this adapter does not
/// serve metrics.k8s.io.
public struct MetricsDiscoveryConfig: Sendable, Hashable {
    /// `rules:`, for custom.metrics.k8s.io.
    public let rules: [DiscoveryRule]
    /// `externalRules:`, for external.metrics.k8s.io.
    public let externalRules: [DiscoveryRule]

    /// Parses and validates a configuration document.
    ///
    /// - Parameters:
    ///   - yaml: The file's content.
    ///   - catalog: The Kubernetes resources labels may name; the built-in ones by default.
    /// - Throws: `RuleError` whose message starts with the path of the offending field
    ///   (`rules[2].name.matches: invalid regular expression "(": …`).
    public static func parse(yaml: String, catalog: ResourceCatalog = .kubernetes) throws(RuleError) -> MetricsDiscoveryConfig {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw RuleError("the configuration is not valid YAML: \(error)")
        }
        let map = try StrictMapping(root, path: "", allowed: ["rules", "externalRules", "resourceRules"])
        if map.node("resourceRules") != nil {
            throw RuleError(
                "resourceRules (the resource metrics API, metrics.k8s.io) is not served by this adapter: use metrics-server "
                    + "for `kubectl top` and CPU/memory autoscaling, and remove `resourceRules:` from this file"
            )
        }
        var rules: [DiscoveryRule] = []
        for (index, node) in try map.sequence("rules").enumerated() {
            rules.append(try DiscoveryRule(node, kind: .custom, index: index, catalog: catalog))
        }
        var externalRules: [DiscoveryRule] = []
        for (index, node) in try map.sequence("externalRules").enumerated() {
            externalRules.append(try DiscoveryRule(node, kind: .external, index: index, catalog: catalog))
        }
        guard !rules.isEmpty || !externalRules.isEmpty else {
            throw RuleError("the configuration has no rules: write them under `rules:` (custom metrics) or `externalRules:`")
        }
        return MetricsDiscoveryConfig(rules: rules, externalRules: externalRules)
    }

    /// The distinct series selectors to relist, in the order rules first use them (`rules` before
    /// `externalRules`). Rules sharing a `seriesQuery` share one `GET /api/v1/series`, as in
    /// prometheus-adapter.
    public var seriesQueries: [String] {
        var seen: Set<String> = []
        return (rules + externalRules).map(\.seriesQuery).filter { seen.insert($0).inserted }
    }
}
