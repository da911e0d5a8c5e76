import CustomMetricsAPI
import MetricRules

/// An external metric that discovery found (external.metrics.k8s.io): a name, the series behind it and
/// the rule that named it. External metrics describe no Kubernetes object: every series the query returns
/// is a value, labelled with its own labels.
public struct DiscoveredExternalMetric: Sendable, Hashable {
    /// The metric name clients ask for.
    public let name: String
    /// The Prometheus series name (`<<.Series>>`).
    public let seriesName: String
    /// The index of the rule in `externalRules:`.
    public let ruleIndex: Int
    /// Whether the request's namespace restricts the query (`resources.namespaced`, default true).
    public let namespaced: Bool
    /// The label holding namespaces; set whenever `namespaced` is.
    public let namespaceLabel: String?
    /// The rule's rate window (see `DiscoveryRule.windowSeconds`).
    public let windowSeconds: Int64?
    let query: DiscoveredQuery

    init(name: String, seriesName: String, rule: DiscoveryRule) {
        self.name = name
        self.seriesName = seriesName
        self.ruleIndex = rule.index
        self.namespaced = rule.resources.namespaced ?? true
        self.namespaceLabel = rule.resources.namespaceLabel
        self.windowSeconds = rule.windowSeconds
        self.query = DiscoveredQuery(template: rule.query, seriesName: seriesName, external: true)
    }

    /// The metric as the provider serves it: with `namespaced: false` (or no label holding namespaces)
    /// the request's namespace does not restrict the query nor the series served.
    public var rule: MetricRule {
        let scoped = namespaced && namespaceLabel != nil
        return MetricRule(
            name: name, resource: MetricRule.externalResource, namespaced: scoped,
            namespaceLabel: scoped ? namespaceLabel : nil, nameLabel: namespaceLabel ?? "namespace",
            windowSeconds: windowSeconds, query: query
        )
    }

    /// The PromQL for this metric (see `DiscoveredQuery`).
    ///
    /// - Parameters:
    ///   - namespace: The namespace of the request (external metrics are always asked for in one); ignored
    ///     when the rule has `namespaced: false`.
    ///   - metricSelector: The request's `labelSelector` on the metric.
    public func promql(namespace: String?, metricSelector: LabelSelector = .everything) throws(MetricsError) -> String {
        try rule.promql(namespace: namespace, metricSelector: metricSelector)
    }
}
