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
    let query: GoTemplate

    init(name: String, seriesName: String, rule: DiscoveryRule) {
        self.name = name
        self.seriesName = seriesName
        self.ruleIndex = rule.index
        self.namespaced = rule.resources.namespaced ?? true
        self.namespaceLabel = rule.resources.namespaceLabel
        self.windowSeconds = rule.windowSeconds
        self.query = rule.query
    }

    /// The PromQL for this metric, as prometheus-adapter builds it for external metrics: the metric
    /// selector's matchers, then `<namespace label>="<namespace>"` when the rule is namespaced;
    /// `<<.GroupBy>>` is empty and `<<.GroupBySlice>>` is `[]` (pkg/naming/metrics_query.go, `BuildExternal`).
    ///
    /// - Parameters:
    ///   - namespace: The namespace of the request (external metrics are always asked for in one); ignored
    ///     when the rule has `namespaced: false`.
    ///   - metricSelector: The request's `labelSelector` on the metric.
    /// - Throws: `MetricsError` 400 for a selector PromQL cannot express; 500 when the template fails.
    public func promql(namespace: String?, metricSelector: LabelSelector = .everything) throws(MetricsError) -> String {
        var scope: (label: String, value: String)?
        if namespaced, let namespace, let namespaceLabel { scope = (namespaceLabel, namespace) }
        let arguments = try QueryArguments(
            series: seriesName, metricSelector: metricSelector, namespace: scope, objectLabel: nil, objectName: nil
        )
        return try DiscoveredMetric.render(query, arguments, metric: name)
    }
}
