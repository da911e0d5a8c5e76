import CustomMetricsAPI

/// How a rule's PromQL is made: from a native `<<.Name>>` template, or by a function of the request
/// (prometheus-adapter's `metricsQuery`, a Go template with its own arguments).
public enum QueryBuilder: Sendable {
    /// A native rule's template.
    case template(QueryTemplate)
    /// The PromQL for a namespace (nil for cluster-scoped), one object's name (nil for a selection) and
    /// the metric selector.
    case function(@Sendable (_ namespace: String?, _ objectName: String?, _ metricSelector: LabelSelector) throws(MetricsError) -> String)
}
