import CustomMetricsAPI
import Foundation
import Logging
import Metrics
import Synchronization

extension PrometheusMetricsProvider {
    /// One object an answer can hold a value for.
    struct ObjectID: Hashable {
        var namespace: String?
        var name: String
    }

    /// What one query gave: the finite value of each object, and why each object with a series but no
    /// value was left out.
    struct QueryResult {
        var values: [ObjectID: MetricValue] = [:]
        var drops: [String: String] = [:]
        /// When the query whose samples these are was sent.
        var sentAt: ContinuousClock.Instant
    }

    /// The values of every object the rule's query returns for this request.
    func values(
        rule: MetricRule,
        namespace: String?,
        objectName: String?,
        metric: MetricQuery,
        trace: ProviderTrace?
    ) async throws(MetricsError) -> QueryResult {
        let promql = try rule.promql(namespace: namespace, objectName: objectName, metricSelector: metric.selector)
        trace?.promql = promql
        let started = ContinuousClock.now
        let samples: [InstantSample]
        let sentAt: ContinuousClock.Instant
        do throws(MetricsError) {
            (samples, sentAt) = try await run(promql, rule: rule)
        } catch {
            trace?.queryDuration = ContinuousClock.now - started
            throw error
        }
        trace?.queryDuration = ContinuousClock.now - started
        // Another request already made values of this very answer (another label selector or API version,
        // or a pod-cache change since): each sample is read and rounded once per query result.
        let resultKey = QueryResults.Key(
            rules: store.generation, resource: rule.resource, metric: rule.name, namespace: namespace, objectName: objectName,
            selector: metric.selector, promql: promql
        )
        if let kept = results.result(for: resultKey, sentAt: sentAt) { return kept }
        let resource = rule.describedResource
        var result = QueryResult(sentAt: sentAt)
        result.values.reserveCapacity(samples.count)
        var duplicates: Set<ObjectID> = []
        for (index, sample) in samples.enumerated() {
            // A 10,000-pod answer is long work: let other requests (discovery, health) run in between.
            if index % 1000 == 999 { await Task.yield() }
            guard let name = sample.labels[rule.nameLabel] else {
                drop(rule: rule, reason: "missing_label", object: "?", detail: "series without the \(rule.nameLabel) label")
                continue
            }
            // prometheus-adapter's queries group by the object label alone (`by (pod)`): the query was
            // already limited to the request's namespace, so a series without the label belongs to it.
            // A cluster-scoped object (a Namespace, a Node) has no namespace, whatever its labels say.
            let seriesNamespace = rule.namespaceLabel.flatMap { sample.labels[$0] } ?? namespace
            let id = ObjectID(namespace: rule.namespaced ? seriesNamespace : nil, name: name)
            guard id.namespace == namespace else { continue }
            guard let quantity = Quantity(decimal: sample.value) else {
                drop(rule: rule, reason: Self.dropReason(for: sample.value), object: name, detail: "value \(sample.value)")
                result.drops[name] = "Prometheus computed \(sample.value), which is never served"
                continue
            }
            if result.values[id] != nil || duplicates.contains(id) {
                // Two series for one object: the template does not group by object. Serve neither.
                duplicates.insert(id)
                result.values[id] = nil
                drop(rule: rule, reason: "duplicate_series", object: name, detail: "several series for one object")
                result.drops[name] = "several series for this object: the rule's query does not group by \(rule.groupByLabels.joined(separator: ","))"
                continue
            }
            result.values[id] = MetricValue(
                describedObject: ObjectReference(kind: resource.kind, namespace: id.namespace, name: name, apiVersion: resource.apiVersion),
                metricName: rule.name,
                metricSelector: metric.selector,
                timestamp: Date(timeIntervalSince1970: sample.timestamp),
                windowSeconds: rule.windowSeconds,
                value: quantity
            )
        }
        results.keep(result, for: resultKey, now: ContinuousClock.now, ttl: coalescer.configuration.ttl)
        return result
    }

    /// The samples for `promql`, shared and reused like every query of this provider.
    func run(_ promql: String, rule: MetricRule) async throws(MetricsError) -> (samples: [InstantSample], sentAt: ContinuousClock.Instant) {
        let (answer, sentAt) = await coalescer.timedAnswer(for: promql) { [self] in await self.query(promql, rule: rule) }
        switch answer {
        case .success(let samples):
            return (samples, sentAt)
        case .failure(let error):
            throw error.metricsError(metric: rule.name)
        }
    }

    /// One real Prometheus query, timed, counted and logged once however many requests share it.
    private func query(_ promql: String, rule: MetricRule) async -> QueryCoalescer.Answer {
        let started = ContinuousClock.now
        do {
            let samples = try await prometheus.instantQuery(promql)
            record(since: started, outcome: "success")
            logger.debug("prometheus query", metadata: [
                "rule": "\(rule.name)", "promql": "\(promql)", "series": "\(samples.count)",
            ])
            return .success(samples)
        } catch {
            record(since: started, outcome: error.kind.rawValue)
            Counter(label: "custom_metrics_adapter_prometheus_query_errors_total", dimensions: [("kind", error.kind.rawValue)], factory: metricsFactory).increment()
            logger.info("prometheus query failed", metadata: [
                "rule": "\(rule.name)", "error.kind": "\(error.kind.rawValue)", "error.detail": "\(error.detail)",
            ])
            return .failure(error)
        }
    }

    private func record(since started: ContinuousClock.Instant, outcome: String) {
        Metrics.Timer(
            label: "custom_metrics_adapter_prometheus_query_duration_seconds",
            dimensions: [("outcome", outcome)],
            factory: metricsFactory
        ).recordNanoseconds((ContinuousClock.now - started).totalNanoseconds)
    }

    /// The `reason` label of a value that is not a finite decimal.
    static func dropReason(for value: String) -> String {
        let lowered = value.lowercased()
        return lowered.contains("nan") ? "nan" : lowered.contains("inf") ? "inf" : "not_a_number"
    }

    func drop(rule: MetricRule, reason: String, object: String, detail: String) {
        Counter(
            label: "custom_metrics_adapter_dropped_values_total",
            dimensions: [("metric", rule.name), ("reason", reason)],
            factory: metricsFactory
        ).increment()
        logger.info("value left out", metadata: [
            "rule": "\(rule.name)", "object": "\(object)", "reason": "\(reason)", "detail": "\(detail)",
        ])
    }
}

/// The values the provider made of each kept query result, so that requests sharing a result (different
/// label selectors, API versions, or a pod change within the TTL) do not read and round its samples again.
///
/// An entry serves only the exact answer it was made from (the same `sentAt` of the same query), so it is
/// never older than the coalescer's TTL allows. Bounded: 64 results, 20,000 values in all; a result of
/// more than 5,000 values is not kept. Off when the coalescer keeps nothing (TTL 0).
final class QueryResults: Sendable {
    struct Key: Hashable {
        var rules: UInt64
        var resource: String
        var metric: String
        var namespace: String?
        var objectName: String?
        var selector: LabelSelector
        var promql: String
    }

    static let maximumResults = 64
    static let maximumValues = 20_000
    /// A larger result is not kept: a namespace of thousands of pods is mostly one HPA's, whose answer the
    /// answer cache already keeps, and its values would hold megabytes.
    static let maximumResultValues = 5_000

    private struct State {
        var entries: [Key: PrometheusMetricsProvider.QueryResult] = [:]
        var values = 0
    }

    private let state = Mutex(State())

    func result(for key: Key, sentAt: ContinuousClock.Instant) -> PrometheusMetricsProvider.QueryResult? {
        state.withLock { state in
            guard let kept = state.entries[key], kept.sentAt == sentAt else { return nil }
            return kept
        }
    }

    func keep(_ result: PrometheusMetricsProvider.QueryResult, for key: Key, now: ContinuousClock.Instant, ttl: Duration) {
        let size = Self.size(of: result)
        guard ttl > .zero, size <= Self.maximumResultValues else { return }
        state.withLock { state in
            if let old = state.entries.removeValue(forKey: key) { state.values -= Self.size(of: old) }
            if state.entries.count >= Self.maximumResults || state.values + size > Self.maximumValues {
                // Results past the TTL can no longer be served: the coalescer asks Prometheus again.
                for (stale, entry) in state.entries where now - entry.sentAt >= ttl {
                    state.values -= Self.size(of: entry)
                    state.entries[stale] = nil
                }
            }
            if state.entries.count >= Self.maximumResults || state.values + size > Self.maximumValues {
                state.entries.removeAll()
                state.values = 0
            }
            state.entries[key] = result
            state.values += size
        }
    }

    var count: Int { state.withLock { $0.entries.count } }
    var values: Int { state.withLock { $0.values } }

    private static func size(of result: PrometheusMetricsProvider.QueryResult) -> Int {
        result.values.count + result.drops.count
    }
}
