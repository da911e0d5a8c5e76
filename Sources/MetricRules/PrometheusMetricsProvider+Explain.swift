import CustomMetricsAPI

/// Why a request got the answer it got: the rule, the PromQL, Prometheus' timing, and a verdict for every
/// object considered. What `custom-metrics-adapter explain` prints for "metric not found".
public struct Explanation: Sendable {
    /// One object the request could have reported, and what happened to it.
    public struct Verdict: Sendable, Equatable {
        public var object: String
        /// `kept` when it is in the answer.
        public var verdict: String
        public var value: String?
    }

    /// The rule that matched, or nil.
    public var rule: MetricRule?
    /// The PromQL sent, if a query was needed.
    public var promql: String?
    /// How long Prometheus took (or until the query failed).
    public var queryDuration: Duration?
    public var verdicts: [Verdict] = []
    /// The metrics served (discovery) when the request was not for values.
    public var servedMetrics: [MetricInfo] = []
    /// The answer the API would give.
    public var outcome: Result<[MetricValue], MetricsError> = .success([])
}

extension PrometheusMetricsProvider {
    /// Runs `request` as the server would and records every decision on the way.
    public func explain(_ request: MetricsRequest) async -> Explanation {
        var explanation = Explanation()
        switch request {
        case .group, .discovery:
            explanation.servedMetrics = listMetrics()
        case .object(_, let object, let metric):
            await explain(
                resource: object.resource, namespace: object.namespace, names: [object.name], selector: .everything, metric: metric,
                into: &explanation
            )
        case .selection(_, let resource, let namespace, let selector, let metric):
            await explain(resource: resource, namespace: namespace, names: nil, selector: selector, metric: metric, into: &explanation)
        }
        return explanation
    }

    private func explain(
        resource: String, namespace: String?, names: [String]?, selector: LabelSelector, metric: MetricQuery,
        into explanation: inout Explanation
    ) async {
        let rule: MetricRule
        let template: QueryBuilder
        do throws(MetricsError) {
            (rule, template) = try lookup(resource: resource, metric: metric.name)
            try checkScope(rule, namespace: namespace)
        } catch {
            explanation.servedMetrics = listMetrics()
            explanation.outcome = .failure(error)
            return
        }
        explanation.rule = rule
        var candidates: [String] = []
        if resource == "pods", let namespace {
            let known: [PodRecord]
            do throws(MetricsError) {
                known = try await pods.pods(inNamespace: namespace)
            } catch {
                explanation.outcome = .failure(error)
                return
            }
            for pod in known.sorted(by: { $0.name < $1.name }) {
                if let names, !names.contains(pod.name) { continue }
                if !selector.matches(pod.labels) {
                    explanation.verdicts.append(.init(object: pod.name, verdict: "not selected: its labels do not match labelSelector"))
                } else if !pod.isLive {
                    explanation.verdicts.append(.init(object: pod.name, verdict: "left out: the pod is terminating or finished (\(pod.phase))"))
                } else {
                    candidates.append(pod.name)
                }
            }
            if let names, known.first(where: { names.contains($0.name) }) == nil {
                explanation.verdicts.append(.init(object: names[0], verdict: "left out: Kubernetes lists no such pod in namespace \(namespace)"))
            }
            if candidates.isEmpty {
                explanation.outcome = names == nil ? .success([]) : .failure(MetricsError(.notFound, "no live pod to report"))
                return
            }
        }
        let objectName = resource == "pods" ? nil : names?.first
        explanation.promql = try? Self.promql(
            rule: rule, template: template, namespace: namespace, objectName: objectName, metricSelector: metric.selector
        )
        let started = ContinuousClock.now
        let found: (values: [ObjectID: MetricValue], drops: [String: String])
        do throws(MetricsError) {
            found = try await valuesAndDrops(rule: rule, template: template, namespace: namespace, objectName: objectName, metric: metric)
        } catch {
            explanation.queryDuration = ContinuousClock.now - started
            explanation.outcome = .failure(error)
            return
        }
        explanation.queryDuration = ContinuousClock.now - started
        if resource != "pods" { candidates = found.values.keys.map(\.name).sorted() + found.drops.keys.sorted() }
        var served: [MetricValue] = []
        for name in candidates {
            if let value = found.values[ObjectID(namespace: namespace, name: name)] {
                served.append(value)
                explanation.verdicts.append(.init(object: name, verdict: "kept", value: value.value.description))
            } else if let reason = found.drops[name] {
                explanation.verdicts.append(.init(object: name, verdict: "left out: \(reason)"))
            } else {
                explanation.verdicts.append(.init(
                    object: name,
                    verdict: "left out: no series in Prometheus' answer (not scraped, no requests within the \(rule.windowSeconds)s window, "
                        + "or metricLabelSelector matches none of its series)"
                ))
            }
        }
        let reported = Set(candidates)
        for id in found.values.keys where !reported.contains(id.name) && resource == "pods" {
            let selected = explanation.verdicts.contains { $0.object == id.name }
            if !selected {
                explanation.verdicts.append(.init(object: id.name, verdict: "ignored: Prometheus has a series, but Kubernetes lists no such pod (deleted?)"))
            }
        }
        if names != nil, served.isEmpty, let name = names?.first {
            explanation.outcome = .failure(MetricsError(
                .notFound, "the server could not find the metric \(metric.name) for \(resource) \"\(name)\""
            ))
        } else {
            explanation.outcome = .success(served)
        }
    }
}
