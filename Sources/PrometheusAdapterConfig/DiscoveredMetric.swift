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
    /// Whether the resource is namespaced, decided as prometheus-adapter does: every resource except
    /// `namespaces`, `nodes` and `persistentvolumes`.
    public let namespaced: Bool
    /// The Prometheus series name (`<<.Series>>`).
    public let seriesName: String
    /// The index of the rule in `rules:`.
    public let ruleIndex: Int
    /// The label holding object names: the `<<.GroupBy>>` of every query, and the label to read from each
    /// result to know which object it belongs to.
    public let resourceLabel: String
    /// The label holding namespaces, for the namespace matcher; nil when the rule has none (then the
    /// resource is cluster-scoped).
    public let namespaceLabel: String?
    /// The rule's rate window (see `DiscoveryRule.windowSeconds`).
    public let windowSeconds: Int64?
    let query: GoTemplate

    /// The resources prometheus-adapter serves as cluster-scoped (`naming.NsGroupResource`,
    /// `NodeGroupResource`, `PVGroupResource`).
    static let clusterScoped: Set<String> = ["namespaces", "nodes", "persistentvolumes"]

    init(name: String, resource: String, seriesName: String, rule: DiscoveryRule, resourceLabel: String) {
        self.name = name
        self.resource = resource
        self.namespaced = !Self.clusterScoped.contains(resource)
        self.seriesName = seriesName
        self.ruleIndex = rule.index
        self.resourceLabel = resourceLabel
        self.namespaceLabel = rule.resources.namespaceLabel
        self.windowSeconds = rule.windowSeconds
        self.query = rule.query
    }

    /// The metric as discovery lists it.
    public var info: MetricInfo {
        MetricInfo(resource: resource, namespaced: namespaced, metric: name)
    }

    /// The PromQL for this metric in `namespace`, as prometheus-adapter builds it, with one deliberate
    /// difference: object names are never put into the query as a regex.
    ///
    /// prometheus-adapter documents `<<.LabelMatchers>>` as the namespace matcher plus the object label
    /// matching the requested names, `pod=~"pod1|pod2"` for a selection, with `<<.GroupBy>>` the object
    /// label (docs/config.md, "Querying"). Here a selection (`objectName` nil) queries every object of the
    /// namespace, grouped by the object label, and the caller keeps the objects it selected: the query's
    /// size no longer grows with the selection (no HTTP 414, no regex over thousands of names), and it is
    /// the same for every request of a namespace, so concurrent requests can share it. Only one named
    /// object is matched, exactly (`pod="a"`), never by regex.
    ///
    /// - Parameters:
    ///   - namespace: The request's namespace: required for namespaced resources, refused for the others.
    ///   - objectName: One object's name, for a request about a single object; nil for a selection.
    ///   - metricSelector: The request's `metricLabelSelector`.
    /// - Throws: `MetricsError` 400 for a metric selector PromQL cannot express or a namespace that does
    ///   not fit the resource's scope; 500 when the template fails or produces nothing.
    public func promql(
        namespace: String?,
        objectName: String? = nil,
        metricSelector: LabelSelector = .everything
    ) throws(MetricsError) -> String {
        var scope: (label: String, value: String)?
        switch (namespaced, namespace) {
        case (false, nil):
            break
        case (false, _?):
            throw MetricsError(.badRequest, "\(resource) are cluster-scoped: ask for \(name) without a namespace")
        case (true, nil):
            throw MetricsError(.badRequest, "\(resource) are namespaced: ask for \(name) in a namespace")
        case (true, let namespace?):
            guard let namespaceLabel else {
                throw MetricsError(.internalError, "unable to build the query for metric \(name): no label holds namespaces")
            }
            scope = (namespaceLabel, namespace)
        }
        let arguments = try QueryArguments(
            series: seriesName, metricSelector: metricSelector, namespace: scope,
            objectLabel: resourceLabel, objectName: objectName
        )
        return try Self.render(query, arguments, metric: name)
    }

    static func render(_ query: GoTemplate, _ arguments: QueryArguments, metric: String) throws(MetricsError) -> String {
        let text: String
        do {
            text = try query.render(arguments.templateValue)
        } catch {
            throw MetricsError(.internalError, "unable to build the query for metric \(metric): \(error.message)")
        }
        guard !text.allSatisfy(\.isTemplateSpace) else {
            throw MetricsError(.internalError, "unable to build the query for metric \(metric): the template produced an empty query")
        }
        return text
    }
}
