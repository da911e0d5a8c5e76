import CustomMetricsAPI
import Foundation
import Logging
import MetricRules
import Metrics
import Synchronization
import Testing

/// Answers queries from a table and records what it was asked.
final class FakePrometheus: PrometheusQuerying {
    let answer: Mutex<Result<[InstantSample], PrometheusQueryError>>
    let queries = Mutex<[String]>([])

    init(_ answer: Result<[InstantSample], PrometheusQueryError>) {
        self.answer = Mutex(answer)
    }

    func instantQuery(_ promql: String) async throws(PrometheusQueryError) -> [InstantSample] {
        queries.withLock { $0.append(promql) }
        return try answer.withLock { $0 }.get()
    }
}

struct FakePods: PodDirectory {
    var pods: [PodRecord]
    func pods(inNamespace namespace: String) async throws(MetricsError) -> [PodRecord] {
        pods.filter { $0.namespace == namespace }
    }
}

@Suite("PrometheusMetricsProvider: the pods that exist, the values Prometheus computed", .timeLimit(.minutes(1)))
struct ProviderTests {
    static let t = 1_795_000_000.5
    static func sample(_ ns: String, _ pod: String, _ value: String) -> InstantSample {
        InstantSample(labels: ["namespace": ns, "pod": pod], timestamp: t, value: value)
    }
    static let pods = FakePods(pods: [
        PodRecord(namespace: "team-a", name: "triton-0", labels: ["app": "triton"]),
        PodRecord(namespace: "team-a", name: "triton-1", labels: ["app": "triton"]),
        PodRecord(namespace: "team-a", name: "triton-2", labels: ["app": "triton"]),
        PodRecord(namespace: "team-a", name: "triton-3", labels: ["app": "triton"], isTerminating: true),
        PodRecord(namespace: "team-a", name: "triton-4", labels: ["app": "triton"], phase: "Failed"),
        PodRecord(namespace: "team-a", name: "other-0", labels: ["app": "other"]),
    ])
    static let metric = MetricQuery(name: "triton:queue_compute:ratio")

    static func provider(_ answer: Result<[InstantSample], PrometheusQueryError>) -> (PrometheusMetricsProvider, FakePrometheus) {
        let prometheus = FakePrometheus(answer)
        let provider = PrometheusMetricsProvider(
            rules: .builtIn, prometheus: prometheus, pods: pods, logger: Logger(label: "test"), metricsFactory: NOOPMetricsHandler.instance
        )
        return (provider, prometheus)
    }

    @Test func keepsOnlySelectedLivePodsWithFiniteValues() async throws {
        let (provider, prometheus) = Self.provider(.success([
            Self.sample("team-a", "triton-0", "0.7895263157894737"),
            Self.sample("team-a", "triton-1", "NaN"),
            Self.sample("team-a", "triton-2", "+Inf"),
            Self.sample("team-a", "triton-3", "5"),
            Self.sample("team-a", "triton-4", "5"),
            Self.sample("team-a", "other-0", "9"),
            Self.sample("team-a", "deleted-0", "9"),
        ]))
        let values = try await provider.metrics(
            resource: "pods", namespace: "team-a", selector: try LabelSelector(parsing: "app=triton"), metric: Self.metric
        )
        #expect(values == [
            MetricValue(
                describedObject: ObjectReference(kind: "Pod", namespace: "team-a", name: "triton-0"),
                metricName: "triton:queue_compute:ratio", metricSelector: .everything,
                timestamp: Date(timeIntervalSince1970: Self.t), windowSeconds: 60, value: Quantity(milli: 790)
            ),
        ])
        #expect(prometheus.queries.withLock { $0 }.count == 1)
        #expect(prometheus.queries.withLock { $0 }.first?.contains("pod=~") == false)
    }

    @Test func noSelectedPodMeansNoQuery() async throws {
        let (provider, prometheus) = Self.provider(.success([]))
        let values = try await provider.metrics(
            resource: "pods", namespace: "team-a", selector: try LabelSelector(parsing: "app=nothing"), metric: Self.metric
        )
        #expect(values.isEmpty)
        #expect(prometheus.queries.withLock { $0 }.isEmpty)
    }

    @Test func twoSeriesForOnePodServeNeither() async throws {
        let (provider, _) = Self.provider(.success([Self.sample("team-a", "triton-0", "1"), Self.sample("team-a", "triton-0", "2")]))
        let values = try await provider.metrics(resource: "pods", namespace: "team-a", selector: .everything, metric: Self.metric)
        #expect(values.isEmpty)
    }

    @Test(arguments: [
        (PrometheusQueryError.Kind.unreachable, 503, "unable to fetch metric triton:queue_compute:ratio: Prometheus is unreachable"),
        (.timeout, 503, "unable to fetch metric triton:queue_compute:ratio: the Prometheus query timed out"),
        (.rejected, 500, "unable to fetch metric triton:queue_compute:ratio: Prometheus rejected the query"),
        (.malformedResponse, 500, "unable to fetch metric triton:queue_compute:ratio: Prometheus sent an answer that could not be used"),
        (.overloaded, 429, "unable to fetch metric triton:queue_compute:ratio: too many Prometheus queries are waiting; retry later"),
        (.unauthorized, 500, "unable to fetch metric triton:queue_compute:ratio: Prometheus refused the adapter's credentials (authentication towards Prometheus failed)"),
    ])
    func backendFailuresNeverBecomeValues(kind: PrometheusQueryError.Kind, code: Int, message: String) async {
        let (provider, _) = Self.provider(.failure(PrometheusQueryError(kind, "http://prometheus:9090 secret detail")))
        await #expect {
            _ = try await provider.metrics(resource: "pods", namespace: "team-a", selector: .everything, metric: Self.metric)
        } throws: { error in
            guard let error = error as? MetricsError else { return false }
            return error.code.httpStatus == code && error.message == message && !error.message.contains("secret")
        }
    }

    @Test(arguments: [
        ("pods", "team-a", "triton-9", "triton:queue_compute:ratio", 404, #"pods "triton-9" not found in namespace "team-a""#),
        ("pods", "team-a", "triton-3", "triton:queue_compute:ratio", 404, #"pods "triton-3" in namespace "team-a" is terminating or finished"#),
        ("pods", "team-a", "triton-1", "triton:queue_compute:ratio", 404,
         #"the server could not find the metric triton:queue_compute:ratio for pods "triton-1" in namespace "team-a": Prometheus has no finite value for it"#),
        ("pods", "team-a", "triton-0", "unknown:metric", 404, "the server could not find the metric unknown:metric for pods"),
        ("services", "team-a", "web", "triton:queue_compute:ratio", 404, "the server could not find the metric triton:queue_compute:ratio for services"),
        ("pods", nil, "triton-0", "triton:queue_compute:ratio", 400,
         "pods are namespaced: ask for /apis/custom.metrics.k8s.io/<version>/namespaces/<namespace>/pods/<name>/triton:queue_compute:ratio"),
    ] as [(String, String?, String, String, Int, String)])
    func objectErrors(resource: String, namespace: String?, name: String, metric: String, code: Int, message: String) async {
        let (provider, _) = Self.provider(.success([Self.sample("team-a", "triton-0", "1"), Self.sample("team-a", "triton-1", "NaN")]))
        await #expect(throws: MetricsError(code == 400 ? .badRequest : .notFound, message)) {
            _ = try await provider.metric(for: ObjectKey(resource: resource, namespace: namespace, name: name), metric: MetricQuery(name: metric))
        }
    }

    @Test func objectByName() async throws {
        let (provider, _) = Self.provider(.success([Self.sample("team-a", "triton-0", "2.5")]))
        let value = try await provider.metric(for: ObjectKey(resource: "pods", namespace: "team-a", name: "triton-0"), metric: Self.metric)
        #expect(value.value.description == "2500m")
    }

    @Test func namespaceRuleUsesAnEqualityMatcher() async throws {
        let rules = try RuleConfig.parse(yaml: """
            metrics:
              - name: queue:ratio
                resource: namespaces
                query: 'sum by (<<.GroupBy>>) (x{<<.LabelMatchers>>})'
            """)
        let prometheus = FakePrometheus(.success([InstantSample(labels: ["namespace": "team-a"], timestamp: Self.t, value: "1.25")]))
        let provider = PrometheusMetricsProvider(rules: rules, prometheus: prometheus, pods: Self.pods, logger: Logger(label: "test"))
        let value = try await provider.metric(for: ObjectKey(resource: "namespaces", namespace: nil, name: "team-a"), metric: MetricQuery(name: "queue:ratio"))
        #expect(value.describedObject == ObjectReference(kind: "Namespace", namespace: nil, name: "team-a"))
        #expect(value.value.description == "1250m")
        #expect(prometheus.queries.withLock { $0 } == [#"sum by (namespace) (x{namespace="team-a"})"#])
    }
}
