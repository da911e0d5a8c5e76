/// A metric the provider serves on one kind of object.
public struct MetricInfo: Sendable, Hashable {
    /// The plural resource the metric describes (`pods`, `namespaces`, `nodes`).
    public var resource: String
    /// Whether objects of that resource live in a namespace.
    public var namespaced: Bool
    /// The metric name as clients ask for it.
    public var metric: String

    public init(resource: String, namespaced: Bool, metric: String) {
        self.resource = resource
        self.namespaced = namespaced
        self.metric = metric
    }
}

/// Names one object: its resource, its namespace (nil for cluster-scoped objects) and its name.
public struct ObjectKey: Sendable, Hashable {
    public var resource: String
    public var namespace: String?
    public var name: String

    public init(resource: String, namespace: String?, name: String) {
        self.resource = resource
        self.namespace = namespace
        self.name = name
    }
}

/// Which metric to fetch and which of its series to use (`metricLabelSelector`).
public struct MetricQuery: Sendable, Hashable {
    public var name: String
    public var selector: LabelSelector

    public init(name: String, selector: LabelSelector = .everything) {
        self.name = name
        self.selector = selector
    }
}

/// What the server needs from a metrics backend; it knows nothing of how values are computed.
///
/// The shape follows custom-metrics-apiserver's `provider.CustomMetricsProvider`: list what is served,
/// get one object's value, get the values of every object a label selector picks.
public protocol CustomMetricsProvider: Sendable {
    /// Every metric served, from memory: discovery must answer even while the backend is down.
    func listMetrics() -> [MetricInfo]

    /// The value of `metric` for one named object.
    ///
    /// - Throws: `MetricsError`: 404 for an unknown metric, a missing object or no value; 5xx when the
    ///   backend fails. Never a made-up value.
    func metric(for object: ObjectKey, metric: MetricQuery) async throws(MetricsError) -> MetricValue

    /// The values of `metric` for every object of `resource` in `namespace` (nil: cluster-scoped) that
    /// `selector` matches. Objects without a finite value are left out.
    func metrics(
        resource: String,
        namespace: String?,
        selector: LabelSelector,
        metric: MetricQuery
    ) async throws(MetricsError) -> [MetricValue]

    /// `metrics(resource:namespace:selector:metric:)` as the `MetricValueList` JSON of `version`: what
    /// the server writes. A provider that can tell when an answer cannot have changed reuses its bytes.
    func encodedMetrics(
        version: APIVersion,
        resource: String,
        namespace: String?,
        selector: LabelSelector,
        metric: MetricQuery
    ) async throws(MetricsError) -> [UInt8]

    /// The bytes `encodedMetrics` would return now when it would return them from memory, without
    /// waiting for anything; nil when an answer has to be made. The server asks this first, so that an
    /// answer from memory costs no task, timer or suspension.
    func keptMetrics(
        version: APIVersion,
        resource: String,
        namespace: String?,
        selector: LabelSelector,
        metric: MetricQuery
    ) -> [UInt8]?
}

extension CustomMetricsProvider {
    public func keptMetrics(
        version: APIVersion,
        resource: String,
        namespace: String?,
        selector: LabelSelector,
        metric: MetricQuery
    ) -> [UInt8]? {
        nil
    }

    public func encodedMetrics(
        version: APIVersion,
        resource: String,
        namespace: String?,
        selector: LabelSelector,
        metric: MetricQuery
    ) async throws(MetricsError) -> [UInt8] {
        let values = try await metrics(resource: resource, namespace: namespace, selector: selector, metric: metric)
        return MetricValueList(version: version, items: values).jsonBytes()
    }
}
