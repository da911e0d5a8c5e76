import CustomMetricsAPI
import MetricRules

/// A custom metric that discovery found: one metric name on one resource, backed by one Prometheus
/// series name and the rule that named it.
///
/// It carries its rule's compiled `metricsQuery`, so a metric found under one configuration keeps
/// querying with that configuration's template after a reload replaced the rule list.
public struct DiscoveredMetric: Sendable, Hashable {
    /// The metric name clients ask for (`http_requests_per_second`).
    public let name: String
    /// The resource as custom.metrics.k8s.io names it (`pods`, `namespaces`, `jobs.batch`).
    public let resource: String
    /// Whether the resource is namespaced, from the resource catalog.
    public let namespaced: Bool
    /// The Prometheus series name (`<<.Series>>`).
    public let seriesName: String
    /// The index of the rule in `rules:`.
    public let ruleIndex: Int
    /// The label holding object names: the `<<.GroupBy>>` of every query, and the label to read from each
    /// result to know which object it belongs to.
    public let resourceLabel: String
    /// The label holding namespaces, for the namespace matcher; nil when the rule has none.
    public let namespaceLabel: String?
    /// The rule's rate window (see `DiscoveryRule.windowSeconds`).
    public let windowSeconds: Int64?
    let query: DiscoveredQuery

    init(name: String, resource: ResourceCatalog.Resource, seriesName: String, rule: DiscoveryRule, resourceLabel: String) {
        self.name = name
        self.resource = resource.apiName
        self.namespaced = resource.namespaced
        self.seriesName = seriesName
        self.ruleIndex = rule.index
        self.resourceLabel = resourceLabel
        self.namespaceLabel = rule.resources.namespaceLabel
        self.windowSeconds = rule.windowSeconds
        self.query = DiscoveredQuery(template: rule.query, seriesName: seriesName, external: false)
    }

    /// The metric as discovery lists it.
    public var info: MetricInfo {
        MetricInfo(resource: resource, namespaced: namespaced, metric: name)
    }

    /// The metric as the provider serves it.
    public var rule: MetricRule {
        MetricRule(
            name: name, resource: resource, namespaced: namespaced, namespaceLabel: namespaced ? namespaceLabel : nil,
            nameLabel: resourceLabel, windowSeconds: windowSeconds, query: query
        )
    }

    /// The PromQL for this metric in `namespace` (see `DiscoveredQuery`).
    ///
    /// - Parameters:
    ///   - namespace: The request's namespace: required for namespaced resources, refused for the others.
    ///   - objectName: One object's name, for a request about a single object; nil for a selection.
    ///   - metricSelector: The request's `metricLabelSelector`.
    public func promql(
        namespace: String?,
        objectName: String? = nil,
        metricSelector: LabelSelector = .everything
    ) throws(MetricsError) -> String {
        try rule.promql(namespace: namespace, objectName: objectName, metricSelector: metricSelector)
    }
}
