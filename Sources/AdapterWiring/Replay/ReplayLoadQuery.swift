import CustomMetricsAPI
import MetricRules

/// The load series the closed- and open-loop models need besides the metric, read per pod with the
/// metric rule's namespace, selector, grouping and window, so they describe the same pods and models.
///
/// Triton's counters, in microseconds: `nv_inference_request_duration_us` (time in the server, queue and
/// compute and I/O) and `nv_inference_compute_infer_duration_us`. Their rates in seconds per second are,
/// by Little's law, requests in flight and busy model instances.
public enum ReplayLoadQuery: String, Sendable, CaseIterable, Hashable {
    case inServer = "nv_inference_request_duration_us"
    case compute = "nv_inference_compute_infer_duration_us"

    /// The PromQL for this series in `namespace`, shaped like `rule`'s (its labels and window; 1m when
    /// the rule has no window).
    public func promql(rule: MetricRule, namespace: String, metricSelector: LabelSelector) throws -> String {
        var derived = rule
        if derived.windowSeconds == nil { derived.windowSeconds = 60 }
        derived.query = try QueryTemplate("sum by (<<.GroupBy>>) (rate(\(rawValue){<<.LabelMatchers>>}[<<.Window>>])) / 1e6")
        return try derived.promql(namespace: namespace, metricSelector: metricSelector)
    }
}
