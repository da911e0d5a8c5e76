import CustomMetricsAPI
import Foundation
import Logging
import Metrics

/// Serves the configured rules from Prometheus, restricted to the pods Kubernetes says exist.
///
/// Every request runs one query per (rule, namespace): PromQL filters by namespace and the metric
/// selector and groups by object; the provider then keeps the objects the request selected. No pod-name
/// regex ever enters PromQL, so a selection of 10,000 pods costs the same query as one of 10.
public struct PrometheusMetricsProvider: CustomMetricsProvider {
    let store: RuleStore
    private let prometheus: any PrometheusQuerying
    let pods: any PodDirectory
    private let logger: Logger
    private let metricsFactory: any MetricsFactory
    private let coalescer: QueryCoalescer

    /// - Parameters:
    ///   - rules: The validated rules; a `RuleStore` lets them be swapped while serving.
    ///   - prometheus: Where queries go.
    ///   - pods: Which pods exist, with their labels.
    ///   - logger: Receives one line per dropped value and per failed query.
    ///   - metricsFactory: Where query latency, query errors and dropped values are counted.
    ///   - coalescer: Shares identical queries between requests and keeps answers for a short, bounded
    ///     time; by default it only shares queries in flight.
    public init(
        rules: RuleStore,
        prometheus: any PrometheusQuerying,
        pods: any PodDirectory,
        logger: Logger,
        metricsFactory: any MetricsFactory = MetricsSystem.factory,
        coalescer: QueryCoalescer? = nil
    ) {
        self.store = rules
        self.prometheus = prometheus
        self.pods = pods
        self.logger = logger
        self.metricsFactory = metricsFactory
        self.coalescer = coalescer ?? QueryCoalescer(configuration: .passThrough, metricsFactory: metricsFactory)
    }

    /// A provider whose rules never change.
    public init(
        rules: RuleSet,
        prometheus: any PrometheusQuerying,
        pods: any PodDirectory,
        logger: Logger,
        metricsFactory: any MetricsFactory = MetricsSystem.factory,
        coalescer: QueryCoalescer? = nil
    ) {
        self.init(
            rules: RuleStore(rules), prometheus: prometheus, pods: pods, logger: logger, metricsFactory: metricsFactory,
            coalescer: coalescer
        )
    }

    public func listMetrics() -> [MetricInfo] {
        store.current.rules.filter { !$0.isExternal }.map { MetricInfo(resource: $0.resource, namespaced: $0.namespaced, metric: $0.name) }
    }

    public func metric(for object: ObjectKey, metric: MetricQuery) async throws(MetricsError) -> MetricValue {
        let (rule, template) = try lookup(resource: object.resource, metric: metric.name)
        try checkScope(rule, namespace: object.namespace)
        var objectName: String?
        if object.resource == "pods", let namespace = object.namespace {
            let known = try await pods.pods(inNamespace: namespace).first { $0.name == object.name }
            guard let pod = known else {
                throw MetricsError(.notFound, "pods \"\(object.name)\" not found in namespace \"\(namespace)\"")
            }
            guard pod.isLive else {
                throw MetricsError(.notFound, "pods \"\(object.name)\" in namespace \"\(namespace)\" is terminating or finished")
            }
        } else {
            objectName = object.name
        }
        let found = try await values(
            rule: rule, template: template, namespace: object.namespace, objectName: objectName, metric: metric
        )
        guard let value = found[ObjectID(namespace: object.namespace, name: object.name)] else {
            let place = object.namespace.map { " in namespace \"\($0)\"" } ?? ""
            throw MetricsError(
                .notFound,
                "the server could not find the metric \(metric.name) for \(object.resource) \"\(object.name)\"\(place): "
                    + "Prometheus has no finite value for it"
            )
        }
        return value
    }

    public func metrics(
        resource: String,
        namespace: String?,
        selector: LabelSelector,
        metric: MetricQuery
    ) async throws(MetricsError) -> [MetricValue] {
        let (rule, template) = try lookup(resource: resource, metric: metric.name)
        try checkScope(rule, namespace: namespace)
        if resource == "pods", let namespace {
            // Select first: with no live pod matching there is nothing to ask Prometheus.
            let selected = try await pods.pods(inNamespace: namespace)
                .filter { $0.isLive && selector.matches($0.labels) }
                .map(\.name)
                .sorted()
            if selected.isEmpty { return [] }
            let found = try await values(rule: rule, template: template, namespace: namespace, objectName: nil, metric: metric)
            return selected.compactMap { found[ObjectID(namespace: namespace, name: $0)] }
        }
        guard selector.isEmpty else {
            throw MetricsError(
                .badRequest,
                "labelSelector is only supported for pods: the adapter does not know the labels of \(resource)"
            )
        }
        let found = try await values(rule: rule, template: template, namespace: namespace, objectName: nil, metric: metric)
        return found.values.sorted { $0.describedObject.name < $1.describedObject.name }
    }

    // MARK: - Rules

    func lookup(resource: String, metric: String) throws(MetricsError) -> (MetricRule, QueryBuilder) {
        guard resource != MetricRule.externalResource, let found = store.current.rule(resource: resource, metric: metric) else {
            throw MetricsError.metricNotFound(metric, resource: resource)
        }
        return found
    }

    func checkScope(_ rule: MetricRule, namespace: String?) throws(MetricsError) {
        if rule.namespaced, namespace == nil {
            throw MetricsError(
                .badRequest,
                "\(rule.resource) are namespaced: ask for /apis/custom.metrics.k8s.io/<version>/namespaces/<namespace>/\(rule.resource)/<name>/\(rule.name)"
            )
        }
        if !rule.namespaced, namespace != nil {
            throw MetricsError(.badRequest, "\(rule.resource) are cluster-scoped: ask without a namespace")
        }
    }

    // MARK: - Querying

    struct ObjectID: Hashable {
        var namespace: String?
        var name: String
    }

    /// The finite values of every object the query returns, keyed by object.
    private func values(
        rule: MetricRule,
        template: QueryBuilder,
        namespace: String?,
        objectName: String?,
        metric: MetricQuery
    ) async throws(MetricsError) -> [ObjectID: MetricValue] {
        try await valuesAndDrops(rule: rule, template: template, namespace: namespace, objectName: objectName, metric: metric).values
    }

    /// The finite values, and why each object with a series but no value was left out.
    func valuesAndDrops(
        rule: MetricRule,
        template: QueryBuilder,
        namespace: String?,
        objectName: String?,
        metric: MetricQuery
    ) async throws(MetricsError) -> (values: [ObjectID: MetricValue], drops: [String: String]) {
        let promql = try Self.promql(rule: rule, template: template, namespace: namespace, objectName: objectName, metricSelector: metric.selector)
        let samples = try await run(promql, rule: rule)
        var result: [ObjectID: MetricValue] = [:]
        var drops: [String: String] = [:]
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
            let id = ObjectID(namespace: rule.namespaceLabel.flatMap { sample.labels[$0] } ?? namespace, name: name)
            guard id.namespace == namespace else { continue }
            guard let quantity = Quantity(decimal: sample.value) else {
                let reason = Self.dropReason(for: sample.value)
                drop(rule: rule, reason: reason, object: name, detail: "value \(sample.value)")
                drops[name] = "Prometheus computed \(sample.value), which is never served"
                continue
            }
            if result[id] != nil || duplicates.contains(id) {
                // Two series for one object: the template does not group by object. Serve neither.
                duplicates.insert(id)
                result[id] = nil
                drop(rule: rule, reason: "duplicate_series", object: name, detail: "several series for one object")
                drops[name] = "several series for this object: the rule's query does not group by \(rule.groupByLabels.joined(separator: ","))"
                continue
            }
            result[id] = MetricValue(
                describedObject: ObjectReference(
                    kind: Self.kind(of: rule.resource),
                    namespace: id.namespace,
                    name: name,
                    apiVersion: Self.apiVersion(of: rule.resource)
                ),
                metricName: rule.name,
                metricSelector: metric.selector,
                timestamp: Date(timeIntervalSince1970: sample.timestamp),
                windowSeconds: rule.windowSeconds > 0 ? rule.windowSeconds : nil,
                value: quantity
            )
        }
        return (result, drops)
    }

    /// The PromQL for one rule, namespace and metric selector; public so `explain` and tests see exactly
    /// what is sent.
    public static func promql(
        rule: MetricRule,
        template: QueryBuilder,
        namespace: String?,
        objectName: String? = nil,
        metricSelector: LabelSelector
    ) throws(MetricsError) -> String {
        switch template {
        case .function(let build):
            return try build(namespace, objectName, metricSelector)
        case .template(let template):
            var matchers: [PromQL.Matcher] = []
            if let namespace, let label = rule.namespaceLabel {
                matchers.append(.init(label, .equal, namespace))
            }
            if let objectName { matchers.append(.init(rule.nameLabel, .equal, objectName)) }
            matchers += try PromQL.matchers(for: metricSelector)
            return template.render(
                labelMatchers: matchers.map(\.description).joined(separator: ","),
                groupBy: rule.groupByLabels.joined(separator: ","),
                window: PrometheusDuration.format(seconds: rule.windowSeconds)
            )
        }
    }

    /// The samples for `promql`, shared and reused like every query of this provider.
    func run(_ promql: String, rule: MetricRule) async throws(MetricsError) -> [InstantSample] {
        let answer = await coalescer.answer(for: promql) { [self] in await self.query(promql, rule: rule) }
        switch answer {
        case .success(let samples):
            return samples
        case .failure(let error):
            switch error.kind {
            case .unreachable:
                throw MetricsError(.serviceUnavailable, "unable to fetch metric \(rule.name): Prometheus is unreachable")
            case .timeout:
                throw MetricsError(.serviceUnavailable, "unable to fetch metric \(rule.name): the Prometheus query timed out")
            case .rejected:
                throw MetricsError(.internalError, "unable to fetch metric \(rule.name): Prometheus rejected the query")
            case .malformedResponse:
                throw MetricsError(.internalError, "unable to fetch metric \(rule.name): Prometheus sent an answer that could not be used")
            case .overloaded:
                throw MetricsError(.tooManyRequests, "unable to fetch metric \(rule.name): too many Prometheus queries are waiting; retry later")
            }
        }
    }

    /// One real Prometheus query, timed, counted and logged once however many requests share it.
    private func query(_ promql: String, rule: MetricRule) async -> QueryCoalescer.Answer {
        let started = ContinuousClock.now
        do {
            let samples = try await prometheus.instantQuery(promql)
            record(rule: rule, since: started, outcome: "success")
            logger.debug("prometheus query", metadata: [
                "rule": "\(rule.name)", "promql": "\(promql)", "series": "\(samples.count)",
            ])
            return .success(samples)
        } catch {
            record(rule: rule, since: started, outcome: error.kind.rawValue)
            Counter(label: "custom_metrics_adapter_prometheus_query_errors_total", dimensions: [("kind", error.kind.rawValue)], factory: metricsFactory).increment()
            logger.info("prometheus query failed", metadata: [
                "rule": "\(rule.name)", "error.kind": "\(error.kind.rawValue)", "error.detail": "\(error.detail)",
            ])
            return .failure(error)
        }
    }

    private func record(rule: MetricRule, since started: ContinuousClock.Instant, outcome: String) {
        let elapsed = ContinuousClock.now - started
        Metrics.Timer(
            label: "custom_metrics_adapter_prometheus_query_duration_seconds",
            dimensions: [("outcome", outcome)],
            factory: metricsFactory
        ).recordNanoseconds(Int64(elapsed.components.seconds) * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
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

    // MARK: - Object references

    static func kind(of resource: String) -> String {
        let known = [
            "pods": "Pod", "namespaces": "Namespace", "nodes": "Node", "services": "Service",
            "deployments": "Deployment", "statefulsets": "StatefulSet", "ingresses": "Ingress",
        ]
        let base = resource.split(separator: ".").first.map(String.init) ?? resource
        if let kind = known[base] { return kind }
        let singular = base.hasSuffix("s") ? String(base.dropLast()) : base
        return singular.prefix(1).uppercased() + singular.dropFirst()
    }

    static func apiVersion(of resource: String) -> String {
        switch resource {
        case "deployments", "statefulsets": "apps/v1"
        case "ingresses": "networking.k8s.io/v1"
        default:
            if let dot = resource.firstIndex(of: ".") { "\(resource[resource.index(after: dot)...])/v1" } else { "v1" }
        }
    }
}
