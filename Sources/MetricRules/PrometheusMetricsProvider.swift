import CustomMetricsAPI
import Foundation
import Logging
import Metrics

/// Serves the configured rules from Prometheus, restricted to the pods Kubernetes says exist.
///
/// Every request runs one query per (rule, namespace): PromQL filters by namespace and the metric
/// selector and groups by object; the provider then keeps the objects the request selected. No pod-name
/// regex ever enters PromQL, so a selection of 10,000 pods costs the same query as one of 10.
///
/// Each decision (rule, PromQL, every pod's verdict) is recorded into an optional `ProviderTrace`:
/// `explain` passes one and prints it, the server passes none. So explain observes the server's path
/// rather than re-implementing it.
public struct PrometheusMetricsProvider: CustomMetricsProvider {
    let store: RuleStore
    let prometheus: any PrometheusQuerying
    let pods: any PodDirectory
    let logger: Logger
    let metricsFactory: any MetricsFactory
    let coalescer: QueryCoalescer
    let answers: AnswerCache?
    let results = QueryResults()

    /// - Parameters:
    ///   - rules: The validated rules; a `RuleStore` lets them be swapped while serving.
    ///   - prometheus: Where queries go.
    ///   - pods: Which pods exist, with their labels.
    ///   - logger: Receives one line per dropped value and per failed query.
    ///   - metricsFactory: Where query latency, query errors and dropped values are counted.
    ///   - coalescer: Shares identical queries between requests and keeps answers for a short, bounded
    ///     time; by default it only shares queries in flight.
    ///   - answers: Keeps encoded answers while their query result (within the coalescer's TTL), the pods
    ///     of their namespace and the rules are unchanged; nil: every answer is encoded anew.
    public init(
        rules: RuleStore,
        prometheus: any PrometheusQuerying,
        pods: any PodDirectory,
        logger: Logger,
        metricsFactory: any MetricsFactory = MetricsSystem.factory,
        coalescer: QueryCoalescer? = nil,
        answers: AnswerCache? = nil
    ) {
        self.store = rules
        self.prometheus = prometheus
        self.pods = pods
        self.logger = logger
        self.metricsFactory = metricsFactory
        self.coalescer = coalescer ?? QueryCoalescer(configuration: .passThrough, metricsFactory: metricsFactory)
        self.answers = answers
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
        store.current.customMetrics.map { MetricInfo(resource: $0.resource, namespaced: $0.namespaced, metric: $0.name) }
    }

    public func metric(for object: ObjectKey, metric: MetricQuery) async throws(MetricsError) -> MetricValue {
        try await self.metric(for: object, metric: metric, trace: nil)
    }

    public func metrics(
        resource: String,
        namespace: String?,
        selector: LabelSelector,
        metric: MetricQuery
    ) async throws(MetricsError) -> [MetricValue] {
        try await metrics(resource: resource, namespace: namespace, selector: selector, metric: metric, trace: nil).values
    }

    public func encodedMetrics(
        version: APIVersion,
        resource: String,
        namespace: String?,
        selector: LabelSelector,
        metric: MetricQuery
    ) async throws(MetricsError) -> [UInt8] {
        // Read before the answer is made: a change while it is made leaves it under the older generation.
        guard let answers, let sources = answerSources(resource: resource, namespace: namespace) else {
            let values = try await metrics(resource: resource, namespace: namespace, selector: selector, metric: metric, trace: nil).values
            return MetricValueList(version: version, items: values).jsonBytes()
        }
        let key = AnswerCache.Key(version: version, resource: resource, namespace: namespace, selector: selector, metric: metric)
        if let kept = answers.bytes(for: key, from: sources) { return kept }
        let (values, sentAt) = try await metrics(resource: resource, namespace: namespace, selector: selector, metric: metric, trace: nil)
        let bytes = MetricValueList(version: version, items: values).jsonBytes()
        if let sentAt {
            answers.keep(bytes, for: key, from: sources, expires: sentAt + coalescer.configuration.ttl)
        }
        return bytes
    }

    public func keptMetrics(
        version: APIVersion,
        resource: String,
        namespace: String?,
        selector: LabelSelector,
        metric: MetricQuery
    ) -> [UInt8]? {
        guard let answers, let sources = answerSources(resource: resource, namespace: namespace) else { return nil }
        let key = AnswerCache.Key(version: version, resource: resource, namespace: namespace, selector: selector, metric: metric)
        return answers.bytes(for: key, from: sources)
    }

    /// What a kept answer for `resource` in `namespace` must have been made from; nil when answers are
    /// not kept (no TTL, or a namespace the pod cache does not hold yet).
    private func answerSources(resource: String, namespace: String?) -> AnswerCache.Sources? {
        guard coalescer.configuration.ttl > .zero else { return nil }
        let podGeneration: UInt64? = resource == "pods" ? namespace.flatMap { pods.generation(ofNamespace: $0) } : 0
        return podGeneration.map { AnswerCache.Sources(rules: store.generation, pods: $0) }
    }

    func metric(for object: ObjectKey, metric: MetricQuery, trace: ProviderTrace?) async throws(MetricsError) -> MetricValue {
        let rule = try lookup(resource: object.resource, metric: metric.name, namespace: object.namespace, trace: trace)
        var objectName: String?
        if object.resource == "pods", let namespace = object.namespace {
            let known = try await pods.pods(inNamespace: namespace).first { $0.name == object.name }
            guard let pod = known else {
                trace?.verdict(object.name, "left out: Kubernetes lists no such pod in namespace \(namespace)")
                throw MetricsError(.notFound, "pods \"\(object.name)\" not found in namespace \"\(namespace)\"")
            }
            guard pod.isLive else {
                trace?.verdict(object.name, "left out: the pod is terminating or finished (\(pod.phase))")
                throw MetricsError(.notFound, "pods \"\(object.name)\" in namespace \"\(namespace)\" is terminating or finished")
            }
        } else {
            objectName = object.name
        }
        let found = try await values(rule: rule, namespace: object.namespace, objectName: objectName, metric: metric, trace: trace)
        let id = ObjectID(namespace: object.namespace, name: object.name)
        trace?.report(found, for: [id], rule: rule, selectedPods: object.resource == "pods")
        guard let value = found.values[id] else {
            let place = object.namespace.map { " in namespace \"\($0)\"" } ?? ""
            throw MetricsError(
                .notFound,
                "the server could not find the metric \(metric.name) for \(object.resource) \"\(object.name)\"\(place): "
                    + "Prometheus has no finite value for it"
            )
        }
        return value
    }

    func metrics(
        resource: String,
        namespace: String?,
        selector: LabelSelector,
        metric: MetricQuery,
        trace: ProviderTrace?
    ) async throws(MetricsError) -> (values: [MetricValue], sentAt: ContinuousClock.Instant?) {
        let rule = try lookup(resource: resource, metric: metric.name, namespace: namespace, trace: trace)
        if resource == "pods", let namespace {
            // Select first: with no live pod matching there is nothing to ask Prometheus.
            let selected = try await selectPods(in: namespace, selector: selector, trace: trace)
            if selected.isEmpty { return ([], nil) }
            let found = try await values(rule: rule, namespace: namespace, objectName: nil, metric: metric, trace: trace)
            let ids = selected.map { ObjectID(namespace: namespace, name: $0) }
            trace?.report(found, for: ids, rule: rule, selectedPods: true)
            return (ids.compactMap { found.values[$0] }, found.sentAt)
        }
        guard selector.isEmpty else {
            throw MetricsError(
                .badRequest,
                "labelSelector is only supported for pods: the adapter does not know the labels of \(resource)"
            )
        }
        let found = try await values(rule: rule, namespace: namespace, objectName: nil, metric: metric, trace: trace)
        let ids = (Array(found.values.keys) + found.drops.keys.map { ObjectID(namespace: namespace, name: $0) })
            .sorted { $0.name < $1.name }
        trace?.report(found, for: ids, rule: rule, selectedPods: false)
        return (found.values.values.sorted { $0.describedObject.name < $1.describedObject.name }, found.sentAt)
    }

    /// The names of the live pods of `namespace` that `selector` matches, sorted.
    private func selectPods(in namespace: String, selector: LabelSelector, trace: ProviderTrace?) async throws(MetricsError) -> [String] {
        var selected: [String] = []
        var listed = try await pods.pods(inNamespace: namespace)
        // The pod cache hands its namespaces out sorted: checking costs one comparison a pod, sorting many.
        if !listed.indices.dropFirst().allSatisfy({ listed[$0 - 1].name <= listed[$0].name }) {
            listed.sort { $0.name < $1.name }
        }
        for pod in listed {
            if !selector.matches(pod.labels) {
                trace?.verdict(pod.name, "not selected: its labels do not match labelSelector")
            } else if !pod.isLive {
                trace?.verdict(pod.name, "left out: the pod is terminating or finished (\(pod.phase))")
            } else {
                selected.append(pod.name)
            }
        }
        return selected
    }

    // MARK: - Rules

    /// The rule serving `metric` on `resource`, checked against the request's scope.
    func lookup(resource: String, metric: String, namespace: String?, trace: ProviderTrace?) throws(MetricsError) -> MetricRule {
        guard resource != MetricRule.externalResource, let rule = store.current.rule(resource: resource, metric: metric) else {
            trace?.servedMetrics = listMetrics()
            throw MetricsError.metricNotFound(metric, resource: resource)
        }
        if rule.namespaced, namespace == nil {
            throw MetricsError(
                .badRequest,
                "\(rule.resource) are namespaced: ask for /apis/custom.metrics.k8s.io/<version>/namespaces/<namespace>/\(rule.resource)/<name>/\(rule.name)"
            )
        }
        if !rule.namespaced, namespace != nil {
            throw MetricsError(.badRequest, "\(rule.resource) are cluster-scoped: ask without a namespace")
        }
        trace?.rule = rule
        return rule
    }
}
