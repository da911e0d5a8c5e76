import CustomMetricsAPI
import Foundation

/// external.metrics.k8s.io: rules with `resource: external` give one value per series the query returns in
/// the namespace, labelled with the series' labels; the HPA's `metric.selector` arrives as `labelSelector` and
/// becomes Prometheus matchers. The same value rules hold: NaN and ±Inf never reach the wire.
extension PrometheusMetricsProvider: ExternalMetricsProvider {
    public func listExternalMetrics() -> [String] {
        store.current.externalMetrics.map(\.name)
    }

    /// The values of an external metric for a request in `namespace`.
    ///
    /// A rule with `namespaced: false` reads every series whatever its namespace label says, as
    /// prometheus-adapter serves it; the request's namespace then only decides who may ask (authorization).
    public func externalMetrics(namespace: String, metric: String, selector: LabelSelector) async throws(MetricsError) -> [ExternalMetricValue] {
        guard let rule = store.current.rule(resource: MetricRule.externalResource, metric: metric) else {
            throw MetricsError(.notFound, "the server could not find the external metric \(metric)")
        }
        let promql = try rule.promql(namespace: namespace, metricSelector: selector)
        let samples = try await run(promql, rule: rule).samples
        var values: [ExternalMetricValue] = []
        for sample in samples {
            if rule.namespaced, let label = rule.namespaceLabel, let seriesNamespace = sample.labels[label], seriesNamespace != namespace {
                continue
            }
            guard let quantity = Quantity(decimal: sample.value) else {
                drop(rule: rule, reason: Self.dropReason(for: sample.value), object: sample.labels.description, detail: "value \(sample.value)")
                continue
            }
            values.append(ExternalMetricValue(
                metricName: rule.name, metricLabels: sample.labels, timestamp: Date(timeIntervalSince1970: sample.timestamp),
                windowSeconds: rule.windowSeconds, value: quantity
            ))
        }
        return values.sorted { $0.metricLabels.sorted(by: <).description < $1.metricLabels.sorted(by: <).description }
    }
}
