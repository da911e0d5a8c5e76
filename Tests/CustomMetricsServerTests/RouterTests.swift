import CustomMetricsAPI
import CustomMetricsServer
import Foundation
import Hummingbird
import HummingbirdTesting
import Prometheus
import Synchronization
import Testing

/// A provider with fixed answers: the server is tested without any backend.
struct TableProvider: CustomMetricsProvider {
    static let timestamp = Date(timeIntervalSince1970: 1_795_000_000)

    func listMetrics() -> [MetricInfo] {
        [
            MetricInfo(resource: "pods", namespaced: true, metric: "triton:queue_compute:ratio"),
            MetricInfo(resource: "namespaces", namespaced: false, metric: "triton:queue_compute:ratio"),
        ]
    }

    static func value(_ name: String, _ milli: Int64, selector: LabelSelector = .everything) -> MetricValue {
        MetricValue(
            describedObject: ObjectReference(kind: "Pod", namespace: "team-a", name: name),
            metricName: "triton:queue_compute:ratio", metricSelector: selector,
            timestamp: timestamp, windowSeconds: 60, value: Quantity(milli: milli)
        )
    }

    func metric(for object: ObjectKey, metric: MetricQuery) async throws(MetricsError) -> MetricValue {
        guard metric.name == "triton:queue_compute:ratio" else { throw .metricNotFound(metric.name, resource: object.resource) }
        switch object.namespace {
        case "down": throw MetricsError(.serviceUnavailable, "unable to fetch metric triton:queue_compute:ratio: Prometheus is unreachable")
        case "broken": throw MetricsError(.internalError, "unable to fetch metric triton:queue_compute:ratio: Prometheus rejected the query")
        default: return Self.value(object.name, 1500, selector: metric.selector)
        }
    }

    func metrics(resource: String, namespace: String?, selector: LabelSelector, metric: MetricQuery) async throws(MetricsError) -> [MetricValue] {
        guard metric.name == "triton:queue_compute:ratio" else { throw .metricNotFound(metric.name, resource: resource) }
        if namespace == "down" { throw MetricsError(.serviceUnavailable, "unable to fetch metric triton:queue_compute:ratio: Prometheus is unreachable") }
        let all = [("triton-0", Int64(790), "triton"), ("triton-1", 2500, "triton"), ("triton-2", 0, "triton"), ("other-0", 5000, "other")]
        return all.filter { selector.matches(["app": $0.2]) }.map { Self.value($0.0, $0.1, selector: metric.selector) }
    }
}

@Suite("Router: every path, shape and Status the API serves", .timeLimit(.minutes(1)))
struct RouterTests {
    static func app() -> some ApplicationProtocol {
        let registry = PrometheusCollectorRegistry()
        let router = buildRouter(
            provider: TableProvider(),
            auth: .insecureLocal,
            metricsFactory: PrometheusMetricsFactory(registry: registry),
            metricsText: { registry.emitToString() }
        )
        return Application(router: router)
    }

    static func golden(_ name: String) throws -> String {
        let url = try #require(Bundle.module.url(forResource: "Golden/\(name)", withExtension: "json"))
        return try String(contentsOf: url, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The JSON of a golden file, re-encoded compactly with sorted keys, so the files can be pretty.
    static func canonical(_ json: String) throws -> String {
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8))
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    @Test(arguments: [
        ("/apis/custom.metrics.k8s.io/v1beta2/namespaces/team-a/pods/%2A/triton:queue_compute:ratio?labelSelector=app%3Dtriton", "v1beta2-pods-selection"),
        ("/apis/custom.metrics.k8s.io/v1beta1/namespaces/team-a/pods/%2A/triton:queue_compute:ratio?labelSelector=app%3Dtriton", "v1beta1-pods-selection"),
        ("/apis/custom.metrics.k8s.io/v1beta2/namespaces/team-a/pods/triton-1/triton:queue_compute:ratio?metricLabelSelector=model%3Dtensorrt_llm", "v1beta2-pod-by-name-metric-selector"),
        ("/apis/custom.metrics.k8s.io/v1beta1/namespaces/team-a/pods/triton-1/triton:queue_compute:ratio?metricLabelSelector=model%3Dtensorrt_llm", "v1beta1-pod-by-name-metric-selector"),
        ("/apis/custom.metrics.k8s.io/v1beta2", "v1beta2-discovery"),
        ("/apis/custom.metrics.k8s.io/v1beta1", "v1beta1-discovery"),
        ("/apis/custom.metrics.k8s.io", "group"),
    ])
    func goldenResponses(uri: String, golden: String) async throws {
        let expected = try Self.canonical(try Self.golden(golden))
        try await Self.app().test(.router) { client in
            try await client.execute(uri: uri, method: .get, headers: [.accept: "application/vnd.kubernetes.protobuf, */*"]) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                #expect(String(buffer: response.body) == expected)
            }
        }
    }

    @Test(arguments: [
        ("/apis/custom.metrics.k8s.io/v1beta2/namespaces/team-a/pods/%2A/unknown:metric", HTTPRequest.Method.get, 404, "NotFound",
         "the server could not find the metric unknown:metric for pods"),
        ("/apis/custom.metrics.k8s.io/v1beta3", .get, 404, "NotFound", "the server could not find the requested resource"),
        ("/apis/other.k8s.io/v1", .get, 404, "NotFound", "the server could not find the requested resource"),
        ("/apis/custom.metrics.k8s.io/v1beta2/namespaces/team-a/pods/%2A/triton:queue_compute:ratio?labelSelector=app+in+(", .get, 400, "BadRequest",
         #"invalid labelSelector "app in (": expected a value in the set of "app" at the end of the selector"#),
        ("/apis/custom.metrics.k8s.io/v1beta2/namespaces/team-a/pods/%2A/triton:queue_compute:ratio?metricLabelSelector=model%3D%3D%3D", .get, 400, "BadRequest",
         #"invalid metricLabelSelector "model===": expected a value for "model" at position 8, found "=""#),
        ("/apis/custom.metrics.k8s.io/v1beta2/namespaces/Team-A/pods/%2A/triton:queue_compute:ratio", .get, 400, "BadRequest",
         #"invalid namespace "Team-A": must consist of lower case alphanumeric characters or "-", and must start and end with an alphanumeric character"#),
        ("/apis/custom.metrics.k8s.io/v1beta2/namespaces/team-a/pods/%/triton:queue_compute:ratio", .get, 400, "BadRequest",
         #"invalid percent-encoding in the request path segment "%""#),
        ("/apis/custom.metrics.k8s.io/v1beta2/namespaces/down/pods/%2A/triton:queue_compute:ratio", .get, 503, "ServiceUnavailable",
         "unable to fetch metric triton:queue_compute:ratio: Prometheus is unreachable"),
        ("/apis/custom.metrics.k8s.io/v1beta2/namespaces/broken/pods/x/triton:queue_compute:ratio", .get, 500, "InternalError",
         "unable to fetch metric triton:queue_compute:ratio: Prometheus rejected the query"),
        ("/apis/custom.metrics.k8s.io/v1beta2/namespaces/team-a/pods/%2A/triton:queue_compute:ratio", .post, 405, "MethodNotAllowed",
         "the server does not allow this method on the requested resource: only get is supported"),
        ("/apis/custom.metrics.k8s.io/v1beta2", .delete, 405, "MethodNotAllowed",
         "the server does not allow this method on the requested resource: only get is supported"),
        ("/openapi/v2", .get, 404, "NotFound", "this server does not publish an OpenAPI document"),
        ("/openapi/v3", .get, 404, "NotFound", "this server does not publish an OpenAPI document"),
        ("/nothing/here", .get, 404, "NotFound", "the server could not find the requested resource"),
    ])
    func statusErrors(uri: String, method: HTTPRequest.Method, code: Int, reason: String, message: String) async throws {
        try await Self.app().test(.router) { client in
            try await client.execute(uri: uri, method: method) { response in
                #expect(response.status.code == code)
                #expect(response.headers[.contentType] == "application/json")
                let expected = #"{"apiVersion":"v1","code":\#(code),"kind":"Status","message":"#
                    + String(decoding: try JSONEncoder().encode(message), as: UTF8.self)
                    + #","metadata":{},"reason":"\#(reason)","status":"Failure"}"#
                #expect(String(buffer: response.body).replacingOccurrences(of: "\\/", with: "/") == expected.replacingOccurrences(of: "\\/", with: "/"))
            }
        }
    }

    @Test(arguments: ["/livez", "/readyz", "/healthz"])
    func health(path: String) async throws {
        try await Self.app().test(.router) { client in
            try await client.execute(uri: path, method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "ok")
            }
        }
    }

    /// Before the pod cache's first list every metric request is a 503: readiness says so, and only
    /// readiness (liveness must not restart a pod that waits for the Kubernetes API).
    @Test func notReadyUntilThePodsAreListed() async throws {
        let synced = Mutex(false)
        let app = Application(router: buildRouter(provider: TableProvider(), auth: .insecureLocal, isReady: { synced.withLock { $0 } }))
        try await app.test(.router) { client in
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body) == "not ready: the pod cache has not listed the pods of the Kubernetes API yet")
            }
            for path in ["/livez", "/healthz"] {
                try await client.execute(uri: path, method: .get) { response in #expect(response.status == .ok) }
            }
            synced.withLock { $0 = true }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == "ok")
            }
        }
    }

    @Test func selfMetricsCountRequests() async throws {
        try await Self.app().test(.router) { client in
            try await client.execute(uri: "/apis/custom.metrics.k8s.io/v1beta2", method: .get) { _ in }
            try await client.execute(uri: "/apis/custom.metrics.k8s.io/v1beta2/namespaces/down/pods/%2A/triton:queue_compute:ratio", method: .get) { _ in }
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(text.contains(#"custom_metrics_adapter_requests_total{kind="discovery",code="200"} 1"#))
                #expect(text.contains(#"custom_metrics_adapter_requests_total{kind="metric",code="503"} 1"#))
                #expect(text.contains("custom_metrics_adapter_request_duration_seconds_bucket"))
            }
        }
    }
}
