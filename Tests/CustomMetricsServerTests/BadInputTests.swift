import CustomMetricsAPI
import CustomMetricsServer
import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdTesting
import Testing

/// A provider that never answers in time (its wait is cancellation-aware, like the real one).
struct StalledProvider: CustomMetricsProvider {
    func listMetrics() -> [MetricInfo] { [MetricInfo(resource: "pods", namespaced: true, metric: "triton:queue_compute:ratio")] }
    func metric(for object: ObjectKey, metric: MetricQuery) async throws(MetricsError) -> MetricValue {
        try? await Task.sleep(for: .seconds(30))
        throw MetricsError(.internalError, "should have been cut off")
    }
    func metrics(resource: String, namespace: String?, selector: LabelSelector, metric: MetricQuery) async throws(MetricsError) -> [MetricValue] {
        try? await Task.sleep(for: .seconds(30))
        throw MetricsError(.internalError, "should have been cut off")
    }
}

/// Every kind of malformed request a client can send, with the exact Status it gets back.
@Suite("Bad input: malformed paths, selectors, encodings and oversized requests", .timeLimit(.minutes(1)))
struct BadInputTests {
    static let base = "/apis/custom.metrics.k8s.io/v1beta2"
    static let pods = base + "/namespaces/team-a/pods/%2A/triton:queue_compute:ratio"
    static let longValue = String(repeating: "a", count: 5000)
    static let manyValues = (0..<1000).map { "v\($0)" }.joined(separator: ",")

    static func expectStatus(_ response: TestResponse, code: Int, reason: String, message: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(response.status.code == code, sourceLocation: sourceLocation)
        #expect(response.headers[.contentType] == "application/json", sourceLocation: sourceLocation)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any], sourceLocation: sourceLocation)
        #expect(object["kind"] as? String == "Status", sourceLocation: sourceLocation)
        #expect(object["status"] as? String == "Failure", sourceLocation: sourceLocation)
        #expect(object["code"] as? Int == code, sourceLocation: sourceLocation)
        #expect(object["reason"] as? String == reason, sourceLocation: sourceLocation)
        #expect(object["message"] as? String == message, sourceLocation: sourceLocation)
    }

    @Test(arguments: [
        // Paths
        (base + "/namespaces", 404, "NotFound", "the server could not find the requested resource"),
        (base + "/namespaces/team-a", 404, "NotFound", "the server could not find the requested resource"),
        // Root-scoped form <resource>/<name>/<metric>: the metric "pods" of Namespace team-a.
        (base + "/namespaces/team-a/pods", 404, "NotFound", "the server could not find the metric pods for namespaces"),
        (base + "/namespaces/team-a/pods/%2A", 404, "NotFound", "the server could not find the requested resource"),
        (base + "/namespaces/team-a/pods/%2A/triton:queue_compute:ratio/extra", 404, "NotFound", "the server could not find the requested resource"),
        (base + "//namespaces/team-a/pods/%2A/triton:queue_compute:ratio", 404, "NotFound", "the server could not find the requested resource"),
        (base + "/namespaces//pods/%2A/triton:queue_compute:ratio", 400, "BadRequest", #"invalid namespace "": must not be empty"#),
        (base + "/namespaces/" + String(repeating: "n", count: 64) + "/pods/%2A/triton:queue_compute:ratio", 400, "BadRequest",
         #"invalid namespace "\#(String(repeating: "n", count: 64))": must be no more than 63 characters"#),
        (base + "/namespaces/-team/pods/%2A/triton:queue_compute:ratio", 400, "BadRequest",
         #"invalid namespace "-team": must consist of lower case alphanumeric characters or "-", and must start and end with an alphanumeric character"#),
        (base + "/namespaces/team.a/pods/%2A/triton:queue_compute:ratio", 400, "BadRequest",
         #"invalid namespace "team.a": must consist of lower case alphanumeric characters or "-", and must start and end with an alphanumeric character"#),
        (base + "/namespaces/team-a/pods/Triton_0/triton:queue_compute:ratio", 400, "BadRequest",
         #"invalid pods name "Triton_0": must consist of lower case alphanumeric characters, "-" or ".", and must start and end with an alphanumeric character"#),
        (base + "/namespaces/team-a/pods/%2A/%20", 400, "BadRequest", #"invalid metric name " ""#),
        (base + "/namespaces/team-a/pods/%2A/triton%2Fratio", 404, "NotFound", "the server could not find the metric triton/ratio for pods"),
        (base + "/namespaces/team-a/Pods/%2A/triton:queue_compute:ratio", 400, "BadRequest", #"invalid resource "Pods""#),
        // Encodings
        (base + "/namespaces/team-a/pods/%zz/triton:queue_compute:ratio", 400, "BadRequest", #"invalid percent-encoding in the request path segment "%zz""#),
        (base + "/namespaces/team-a/pods/%C3%28/triton:queue_compute:ratio", 400, "BadRequest", #"invalid percent-encoding in the request path segment "%C3%28""#),
        (base + "/namespaces/team%00a/pods/%2A/triton:queue_compute:ratio", 400, "BadRequest",
         #"invalid namespace "team\u{0}a": must consist of lower case alphanumeric characters or "-", and must start and end with an alphanumeric character"#),
        (pods + "?labelSelector=app%3", 400, "BadRequest", "invalid percent-encoding in the query string"),
        (pods + "?labelSelector=%FF", 400, "BadRequest", "invalid percent-encoding in the query string"),
        // Selectors
        (pods + "?labelSelector=app%3Dtriton&labelSelector=app%3Dother", 400, "BadRequest", "the query parameter labelSelector is given more than once"),
        (pods + "?labelSelector=app+notin", 400, "BadRequest", #"invalid labelSelector "app notin": expected "(" after "app notin""#),
        (pods + "?labelSelector=,", 400, "BadRequest", #"invalid labelSelector ",": expected a label key at position 1, found ",""#),
        (pods + "?labelSelector=app%3D%3Dtriton%3D", 400, "BadRequest", #"invalid labelSelector "app==triton=": expected "," or the end of the selector at position 12, found "=""#),
        (pods + "?labelSelector=-app%3Dx", 400, "BadRequest",
         #"invalid labelSelector "-app=x": invalid label key "-app": the name part must consist of alphanumeric characters, "-", "_" or ".", and must start and end with an alphanumeric character"#),
        (pods + "?labelSelector=app%3D" + longValue, 400, "BadRequest", "labelSelector is 5004 bytes long; the limit is 4096"),
        (pods + "?metricLabelSelector=model+in+(" + manyValues + ")", 400, "BadRequest", "metricLabelSelector is \(("model in (" + manyValues + ")").utf8.count) bytes long; the limit is 4096"),
        (pods + "?labelSelector=replicas+gt+x", 400, "BadRequest",
         #"invalid labelSelector "replicas gt x": expected an operator (=, ==, !=, in, notin, >, <) after "replicas", found "gt""#),
        (pods + "?labelSelector=replicas%3Ex", 400, "BadRequest", #"invalid labelSelector "replicas>x": the value of "replicas>" must be an integer, not "x""#),
        // Oversized request target
        (pods + "?other=" + String(repeating: "x", count: 9000), 414, "RequestURITooLong",
         "the request target is \(pods.utf8.count + 7 + 9000) bytes long; the limit is 8192"),
    ])
    func malformedRequests(uri: String, code: Int, reason: String, message: String) async throws {
        try await RouterTests.app().test(.router) { client in
            try await client.execute(uri: uri, method: .get) { response in
                try Self.expectStatus(response, code: code, reason: reason, message: message)
            }
        }
    }

    @Test func aStalledBackendEndsInATimelyServiceUnavailable() async throws {
        let router = buildRouter(provider: StalledProvider(), auth: .insecureLocal, limits: RequestLimits(requestTimeout: .milliseconds(200)))
        let started = ContinuousClock.now
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: Self.pods, method: .get) { response in
                try Self.expectStatus(response, code: 503, reason: "ServiceUnavailable", message: "the request did not complete within 200ms; retry later")
            }
            try await client.execute(uri: Self.base + "/namespaces/team-a/pods/triton-0/triton:queue_compute:ratio", method: .get) { response in
                try Self.expectStatus(response, code: 503, reason: "ServiceUnavailable", message: "the request did not complete within 200ms; retry later")
            }
            // Discovery does not wait on the backend.
            try await client.execute(uri: Self.base, method: .get) { response in
                #expect(response.status == .ok)
            }
        }
        // Generous: the point is "not 30 s", not a latency figure.
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test(arguments: [
        // The HPA asks for protobuf first; odd Accept headers still get JSON.
        ["accept": "application/vnd.kubernetes.protobuf, */*"],
        ["accept": "text/html"],
        ["accept": ";;;,,,"],
        ["accept-encoding": "gzip, br, zstd"],
        ["content-type": "application/x-www-form-urlencoded"],
        ["x-remote-user": "system:admin"],
    ])
    func oddHeadersDoNotChangeTheAnswer(headers: [String: String]) async throws {
        var built = HTTPFields()
        for (name, value) in headers { built[HTTPField.Name(name)!] = value }
        let fields = built
        try await RouterTests.app().test(.router) { client in
            try await client.execute(uri: Self.pods + "?labelSelector=app%3Dtriton", method: .get, headers: fields) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                #expect(String(buffer: response.body).contains(#""kind":"MetricValueList""#))
            }
        }
    }
}
