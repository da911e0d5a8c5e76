/// One metric the adapter serves: its name, the Kubernetes resource it describes, and the PromQL that
/// computes it for every object of a namespace at once.
///
/// The query is a template with named placeholders, in prometheus-adapter's `<<.Name>>` syntax so its
/// `metricsQuery` strings read the same here:
/// - `<<.LabelMatchers>>`: the matchers that limit the query to the request (the namespace, the object name
///   for a single non-pod object, the `metricLabelSelector`), comma-separated, escaped;
/// - `<<.GroupBy>>`: the labels that identify one object (`namespace,pod` for pods);
/// - `<<.Window>>`: the rate window (`1m`).
public struct MetricRule: Sendable, Hashable {
    /// The metric name clients ask for (`triton:queue_compute:ratio`).
    public var name: String
    /// The plural resource the metric describes (`pods`).
    public var resource: String
    /// Whether objects of `resource` live in a namespace.
    public var namespaced: Bool
    /// The Prometheus label holding an object's namespace; nil for cluster-scoped resources.
    public var namespaceLabel: String?
    /// The Prometheus label holding an object's name (`pod`).
    public var nameLabel: String
    /// The rate window in seconds, reported as `windowSeconds`/`window`.
    public var windowSeconds: Int64
    /// The PromQL template.
    public var query: String

    public init(
        name: String,
        resource: String,
        namespaced: Bool,
        namespaceLabel: String?,
        nameLabel: String,
        windowSeconds: Int64,
        query: String
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
        isExternal ? [namespaceLabel].compactMap { $0 } : [namespaceLabel, nameLabel].compactMap { $0 }
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
        query: "sum by (<<.GroupBy>>) (rate(nv_inference_queue_duration_us{<<.LabelMatchers>>}[<<.Window>>]))"
            + " / clamp_min(sum by (<<.GroupBy>>) (rate(nv_inference_compute_infer_duration_us{<<.LabelMatchers>>}[<<.Window>>])), 1)"
    )
}
