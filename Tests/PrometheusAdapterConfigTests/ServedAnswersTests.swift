import CustomMetricsAPI
import Foundation
import Logging
import MetricRules
import Metrics
import PrometheusAdapterConfig
import Synchronization
import Testing

/// Answers every query with the same samples and records the PromQL it was sent.
final class OneAnswerPrometheus: PrometheusQuerying {
    let samples: [InstantSample]
    let queries = Mutex<[String]>([])

    init(_ samples: [InstantSample]) {
        self.samples = samples
    }

    func instantQuery(_ promql: String) async throws(PrometheusQueryError) -> [InstantSample] {
        queries.withLock { $0.append(promql) }
        return samples
    }
}

struct NoPods: PodDirectory {
    func pods(inNamespace namespace: String) async throws(MetricsError) -> [PodRecord] { [] }
}

/// Answers users found wrong with prometheus-adapter configs, each served end to end through discovery,
/// the provider and a Prometheus answer written by hand.
@Suite("Served answers: namespace metrics, external rules without namespace, kinds from the catalog", .timeLimit(.minutes(1)))
struct ServedAnswersTests {
    static let t = 1_795_000_000.0

    static func provider(config yaml: String, series: [[String: String]], answer: [InstantSample]) throws -> (PrometheusMetricsProvider, OneAnswerPrometheus) {
        let config = try MetricsDiscoveryConfig.parse(yaml: yaml)
        let byQuery = Dictionary(uniqueKeysWithValues: config.seriesQueries.map { ($0, series) })
        let custom = config.discoverCustomMetrics(seriesByQuery: byQuery).metrics.map(\.rule)
        let external = config.discoverExternalMetrics(seriesByQuery: byQuery).metrics.map(\.rule)
        let prometheus = OneAnswerPrometheus(answer)
        let provider = PrometheusMetricsProvider(
            rules: try RuleSet(rules: custom + external), prometheus: prometheus, pods: NoPods(), logger: Logger(label: "test"),
            metricsFactory: NOOPMetricsHandler.instance
        )
        return (provider, prometheus)
    }

    /// prometheus-adapter's docs/config-walkthrough.md shape, with the namespace label as is or renamed.
    @Test(arguments: ["namespace", "kubernetes_namespace"])
    func namespaceMetricIsServed(label: String) async throws {
        let yaml = """
            rules:
              - seriesQuery: 'http_requests_total{\(label)!="",pod!=""}'
                resources: {overrides: {\(label): {resource: namespace}, pod: {resource: pod}}}
                name: {matches: "^(.*)_total$", as: "${1}"}
                metricsQuery: sum(rate(<<.Series>>{<<.LabelMatchers>>}[5m])) by (<<.GroupBy>>)
            """
        let (provider, prometheus) = try Self.provider(
            config: yaml,
            series: [["__name__": "http_requests_total", label: "team-a", "pod": "web-0"]],
            answer: [InstantSample(labels: [label: "team-a"], timestamp: Self.t, value: "0.937")]
        )
        let value = try await provider.metric(
            for: ObjectKey(resource: "namespaces", namespace: nil, name: "team-a"), metric: MetricQuery(name: "http_requests")
        )
        #expect(prometheus.queries.withLock { $0 } == [#"sum(rate(http_requests_total{\#(label)="team-a"}[5m])) by (\#(label))"#])
        #expect(value.describedObject == ObjectReference(kind: "Namespace", namespace: nil, name: "team-a", apiVersion: "v1"))
        #expect(value.value == Quantity(milli: 937))
        #expect(value.windowSeconds == 300)
    }

    @Test func externalRuleWithoutNamespaceServesEverySeries() async throws {
        let yaml = """
            externalRules:
              - seriesQuery: 'queue_depth{namespace!=""}'
                resources: {namespaced: false, overrides: {namespace: {resource: namespace}}}
                metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (namespace)
            """
        let (provider, prometheus) = try Self.provider(
            config: yaml,
            series: [["__name__": "queue_depth", "namespace": "shared"]],
            answer: [
                InstantSample(labels: ["namespace": "shared"], timestamp: Self.t, value: "3"),
                InstantSample(labels: ["namespace": "team-b"], timestamp: Self.t, value: "4"),
            ]
        )
        let values = try await provider.externalMetrics(namespace: "team-a", metric: "queue_depth", selector: .everything)
        #expect(prometheus.queries.withLock { $0 } == ["sum(queue_depth{}) by (namespace)"])
        #expect(values.map(\.metricLabels) == [["namespace": "shared"], ["namespace": "team-b"]])
        #expect(values.map(\.value) == [Quantity(milli: 3000), Quantity(milli: 4000)])
    }

    @Test(arguments: [
        ("replicasets", "apps", "ReplicaSet", "apps/v1"),
        ("jobs", "batch", "Job", "batch/v1"),
        ("horizontalpodautoscalers", "autoscaling", "HorizontalPodAutoscaler", "autoscaling/v2"),
        ("services", "", "Service", "v1"),
    ])
    func describedObjectComesFromTheCatalog(resource: String, group: String, kind: String, apiVersion: String) async throws {
        let apiName = group.isEmpty ? resource : "\(resource).\(group)"
        let singular = String(resource.dropLast())
        let yaml = """
            rules:
              - seriesQuery: 'objects_total{namespace!="",\(singular)!=""}'
                resources: {overrides: {namespace: {resource: namespace}, \(singular): {group: "\(group)", resource: \(singular)}}}
                metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
            """
        let (provider, _) = try Self.provider(
            config: yaml,
            series: [["__name__": "objects_total", "namespace": "team-a", singular: "x-1"]],
            answer: [InstantSample(labels: ["namespace": "team-a", singular: "x-1"], timestamp: Self.t, value: "2")]
        )
        let value = try await provider.metric(
            for: ObjectKey(resource: apiName, namespace: "team-a", name: "x-1"), metric: MetricQuery(name: "objects_total")
        )
        #expect(value.describedObject == ObjectReference(kind: kind, namespace: "team-a", name: "x-1", apiVersion: apiVersion))
    }

    @Test func nativeRuleOnReplicaSetsNamesItsKind() async throws {
        let rules = try RuleConfig.parse(yaml: """
            metrics:
              - name: replicas:busy
                resource: replicasets.apps
                query: sum by (<<.GroupBy>>) (busy{<<.LabelMatchers>>})
            """)
        let prometheus = OneAnswerPrometheus([InstantSample(labels: ["namespace": "team-a", "replicaset": "web-7d"], timestamp: Self.t, value: "1")])
        let provider = PrometheusMetricsProvider(
            rules: rules, prometheus: prometheus, pods: NoPods(), logger: Logger(label: "test"), metricsFactory: NOOPMetricsHandler.instance
        )
        let value = try await provider.metric(
            for: ObjectKey(resource: "replicasets.apps", namespace: "team-a", name: "web-7d"), metric: MetricQuery(name: "replicas:busy")
        )
        #expect(value.describedObject == ObjectReference(kind: "ReplicaSet", namespace: "team-a", name: "web-7d", apiVersion: "apps/v1"))
    }
}
