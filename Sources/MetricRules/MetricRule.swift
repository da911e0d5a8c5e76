import CustomMetricsAPI

/// One metric the adapter serves: its name, what it describes, the labels that identify an object in
/// Prometheus' answer, its window, and how its PromQL is built for a request.
///
/// Native rules (`metrics:`) and metrics discovered from prometheus-adapter's rules are two sources of
/// this one model: the provider serves rules and never knows where one came from. Only `query` differs.
public struct MetricRule: Sendable {
    /// The metric name clients ask for (`triton:queue_compute:ratio`).
    public var name: String
    /// The resource the metric describes as custom.metrics.k8s.io names it (`pods`, `jobs.batch`), or
    /// `external` for a rule served on external.metrics.k8s.io.
    public var resource: String
    /// Whether the request's namespace restricts the query: objects of `resource` live in a namespace, or
    /// an external rule reads only the request's namespace.
    public var namespaced: Bool
    /// The Prometheus label holding an object's namespace; nil when the query is not restricted by one.
    public var namespaceLabel: String?
    /// The Prometheus label holding an object's name (`pod`).
    public var nameLabel: String
    /// The rate window in seconds, reported as `windowSeconds`/`window`; nil when the rule has none.
    public var windowSeconds: Int64?
    /// How the PromQL for a request is made.
    public var query: any PromQLTemplate

    public init(
        name: String,
        resource: String,
        namespaced: Bool,
        namespaceLabel: String?,
        nameLabel: String,
        windowSeconds: Int64?,
        query: any PromQLTemplate
    ) {
        self.name = name
        self.resource = resource
        self.namespaced = namespaced
        self.namespaceLabel = namespaceLabel
        self.nameLabel = nameLabel
        self.windowSeconds = windowSeconds
        self.query = query
    }

    /// The `resource` of a rule served on external.metrics.k8s.io: a value per series, not per object.
    public static let externalResource = "external"

    /// Whether the rule is served on external.metrics.k8s.io (`resource: external`).
    public var isExternal: Bool { resource == Self.externalResource }

    /// The labels that identify one object, in `<<.GroupBy>>` order; for an external rule, the namespace.
    public var groupByLabels: [String] {
        let namespace = namespaced ? namespaceLabel : nil
        return isExternal ? [namespace].compactMap { $0 } : [namespace, nameLabel].compactMap { $0 }
    }

    /// The Kubernetes resource of the objects the metric describes, from the one catalog.
    public var describedResource: ResourceCatalog.Resource {
        ResourceCatalog.kubernetes.resource(apiName: resource)
    }

    /// The PromQL for one request.
    ///
    /// - Parameters:
    ///   - namespace: The request's namespace; nil for cluster-scoped resources.
    ///   - objectName: One object's name, for a request about a single non-pod object; nil for a selection.
    ///   - metricSelector: The request's `metricLabelSelector`.
    /// - Throws: `MetricsError` 400 for a selector PromQL cannot express, 500 when the template fails.
    public func promql(namespace: String?, objectName: String? = nil, metricSelector: LabelSelector) throws(MetricsError) -> String {
        try query.promql(for: self, namespace: namespace, objectName: objectName, metricSelector: metricSelector)
    }

    /// The rule served when no `--config` is given: Triton's queue-to-compute ratio per pod.
    ///
    /// Each pod's rates are summed over all its models before dividing (a per-model ratio, averaged,
    /// under-reports), and the compute rate is clamped at 1 µs/s so an idle pod reads 0, not NaN.
    public static let tritonQueueComputeRatio = MetricRule(
        name: "triton:queue_compute:ratio",
        resource: "pods",
        namespaced: true,
        namespaceLabel: "namespace",
        nameLabel: "pod",
        windowSeconds: 60,
        query: QueryTemplate.tritonQueueComputeRatio
    )
}

extension MetricRule: Hashable {
    /// Rules are equal when every field is and their queries have the same source text.
    public static func == (lhs: MetricRule, rhs: MetricRule) -> Bool {
        (lhs.name, lhs.resource, lhs.namespaced, lhs.namespaceLabel) == (rhs.name, rhs.resource, rhs.namespaced, rhs.namespaceLabel)
            && (lhs.nameLabel, lhs.windowSeconds, lhs.query.text) == (rhs.nameLabel, rhs.windowSeconds, rhs.query.text)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(resource)
        hasher.combine(query.text)
    }
}

/// How a rule's PromQL is made for a request: a native `<<.Name>>` template, or prometheus-adapter's
/// `metricsQuery` (a Go template with its own arguments).
public protocol PromQLTemplate: Sendable {
    /// The template as written in the configuration; shown by `explain`.
    var text: String { get }

    /// Checks that the template fits the rule it belongs to.
    ///
    /// - Throws: `RuleError` saying what is wrong, without the rule's location (the caller adds it).
    func validate(for rule: MetricRule) throws(RuleError)

    /// The PromQL for `rule` and one request (see `MetricRule.promql`).
    func promql(for rule: MetricRule, namespace: String?, objectName: String?, metricSelector: LabelSelector) throws(MetricsError) -> String
}
