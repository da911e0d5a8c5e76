import CustomMetricsAPI
import Synchronization

/// The decisions the provider made for one request, recorded as it makes them: what `explain` prints.
///
/// The server passes no trace; `explain` passes one to the same code path, so what it prints is what the
/// server did, not a second opinion.
final class ProviderTrace: Sendable {
    private struct State {
        var rule: MetricRule?
        var promql: String?
        var queryDuration: Duration?
        var verdicts: [Explanation.Verdict] = []
        var servedMetrics: [MetricInfo] = []
    }

    private let state = Mutex(State())

    var rule: MetricRule? {
        get { state.withLock { $0.rule } }
        set { state.withLock { $0.rule = newValue } }
    }

    var promql: String? {
        get { state.withLock { $0.promql } }
        set { state.withLock { $0.promql = newValue } }
    }

    var queryDuration: Duration? {
        get { state.withLock { $0.queryDuration } }
        set { state.withLock { $0.queryDuration = newValue } }
    }

    var servedMetrics: [MetricInfo] {
        get { state.withLock { $0.servedMetrics } }
        set { state.withLock { $0.servedMetrics = newValue } }
    }

    var verdicts: [Explanation.Verdict] { state.withLock { $0.verdicts } }

    func verdict(_ object: String, _ verdict: String, value: String? = nil) {
        state.withLock { $0.verdicts.append(.init(object: object, verdict: verdict, value: value)) }
    }

    /// A verdict for each object the request asked about, and for each series of a pod Kubernetes does
    /// not list.
    func report(_ found: PrometheusMetricsProvider.QueryResult, for ids: [PrometheusMetricsProvider.ObjectID], rule: MetricRule, selectedPods: Bool) {
        for id in ids {
            if let value = found.values[id] {
                verdict(id.name, "kept", value: value.value.description)
            } else if let reason = found.drops[id.name] {
                verdict(id.name, "left out: \(reason)")
            } else {
                let window = rule.windowSeconds.map { "\($0)s" } ?? "rule's"
                verdict(
                    id.name,
                    "left out: no series in Prometheus' answer (not scraped, no requests within the \(window) window, "
                        + "or metricLabelSelector matches none of its series)"
                )
            }
        }
        guard selectedPods else { return }
        let named = Set(verdicts.map(\.object)).union(ids.map(\.name))
        for id in found.values.keys.sorted(by: { $0.name < $1.name }) where !named.contains(id.name) {
            verdict(id.name, "ignored: Prometheus has a series, but Kubernetes lists no such pod (deleted?)")
        }
    }

    /// The explanation of a request that ended with `outcome`.
    func explanation(outcome: Result<[MetricValue], MetricsError>) -> Explanation {
        state.withLock { state in
            Explanation(
                rule: state.rule, promql: state.promql, queryDuration: state.queryDuration, verdicts: state.verdicts,
                servedMetrics: state.servedMetrics, outcome: outcome
            )
        }
    }
}
