import Foundation
import HTTPTypes
import Hummingbird
import MetricRules
import NIOCore
import PrometheusClient
import Synchronization
import Testing

/// A stand-in for Prometheus' HTTP API that answers each request with a scripted status and body and
/// records what it received. Faults the real binary cannot be made to produce (a matrix, garbage, a
/// hang) come from here; the integration test covers the real binary.
final class ScriptedPrometheus: Sendable {
    struct Seen: Sendable {
        var method: String
        var path: String
        var contentType: String?
        var authorization: String?
        var tenant: String?
        var body: String
    }

    let answer: Mutex<(status: Int, body: String, delay: Duration)>
    let seen = Mutex<[Seen]>([])

    init(status: Int = 200, body: String) {
        answer = Mutex((status, body, .zero))
    }

    /// Runs the stand-in on a free loopback port for the duration of `body`.
    func run(_ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        let router = Router()
        router.post("/prefix/api/v1/{endpoint}") { request, _ -> Response in
            let text = String(buffer: try await request.body.collect(upTo: 1 << 20))
            self.seen.withLock {
                $0.append(Seen(
                    method: request.method.rawValue, path: request.uri.path,
                    contentType: request.headers[.contentType], authorization: request.headers[.authorization],
                    tenant: request.headers[HTTPField.Name("X-Scope-OrgID")!], body: text
                ))
            }
            let (status, body, delay) = self.answer.withLock { $0 }
            if delay > .zero { try await Task.sleep(for: delay) }
            return Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        let port = Mutex<Int?>(nil)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: { channel in
            port.withLock { $0 = channel.localAddress?.port }
        })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            var waited = 0
            while port.withLock({ $0 }) == nil, waited < 200 {
                try await Task.sleep(for: .milliseconds(10))
                waited += 1
            }
            let bound = try #require(port.withLock { $0 })
            defer { group.cancelAll() }
            try await body(bound)
        }
    }
}

@Suite("PrometheusHTTPClient: POST /api/v1/query, auth, envelopes and faults", .timeLimit(.minutes(1)))
struct PrometheusHTTPClientTests {
    static let vector = #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"namespace":"team-a","pod":"triton-0"},"value":[1795000000.123,"0.7895263157894737"]},{"metric":{"namespace":"team-a","pod":"triton-1"},"value":[1795000000.123,"NaN"]}]}}"#

    static func client(port: Int, timeout: Duration = .seconds(2), configure: (inout PrometheusClientConfiguration) -> Void = { _ in }) throws -> PrometheusHTTPClient {
        var configuration = PrometheusClientConfiguration(url: "http://127.0.0.1:\(port)/prefix/", queryTimeout: timeout)
        configure(&configuration)
        return try PrometheusHTTPClient(configuration: configuration)
    }

    @Test func postsAFormAndDecodesTheVector() async throws {
        let prometheus = ScriptedPrometheus(body: Self.vector)
        let tokenFile = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID().uuidString)").path
        try "s3cr3t-token\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: tokenFile) }
        try await prometheus.run { port in
            let client = try Self.client(port: port) {
                $0.bearerTokenFile = tokenFile
                $0.headers = [("X-Scope-OrgID", "tenant-a")]
            }
            let samples = try await client.instantQuery(#"sum by (pod) (x{namespace="team a"})"#)
            try await client.shutdown()
            #expect(samples == [
                InstantSample(labels: ["namespace": "team-a", "pod": "triton-0"], timestamp: 1_795_000_000.123, value: "0.7895263157894737"),
                InstantSample(labels: ["namespace": "team-a", "pod": "triton-1"], timestamp: 1_795_000_000.123, value: "NaN"),
            ])
        }
        let seen = try #require(prometheus.seen.withLock { $0 }.first)
        #expect(seen.method == "POST")
        #expect(seen.path == "/prefix/api/v1/query")
        #expect(seen.contentType == "application/x-www-form-urlencoded")
        #expect(seen.authorization == "Bearer s3cr3t-token")
        #expect(seen.tenant == "tenant-a")
        #expect(seen.body == "query=sum%20by%20%28pod%29%20%28x%7Bnamespace%3D%22team%20a%22%7D%29&timeout=2000ms")
    }

    @Test func basicAuth() async throws {
        let prometheus = ScriptedPrometheus(body: Self.vector)
        let passwordFile = FileManager.default.temporaryDirectory.appendingPathComponent("pw-\(UUID().uuidString)").path
        try "pa:ss\n".write(toFile: passwordFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: passwordFile) }
        try await prometheus.run { port in
            let client = try Self.client(port: port) {
                $0.basicAuthUsername = "adapter"
                $0.basicAuthPasswordFile = passwordFile
            }
            _ = try await client.instantQuery("up")
            try await client.shutdown()
        }
        #expect(prometheus.seen.withLock { $0 }.first?.authorization == "Basic " + Data("adapter:pa:ss".utf8).base64EncodedString())
    }

    @Test(arguments: [
        (400, #"{"status":"error","errorType":"bad_data","error":"parse error at char 5"}"#, PrometheusQueryError.Kind.rejected, "HTTP 400 bad_data: parse error at char 5"),
        (422, #"{"status":"error","errorType":"execution","error":"many-to-many matching not allowed"}"#, .rejected, "HTTP 422 execution: many-to-many matching not allowed"),
        (503, #"{"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"}"#, .timeout, "HTTP 503 timeout: query timed out in expression evaluation"),
        (503, "Service Unavailable", .unreachable, "HTTP 503 without a Prometheus answer"),
        (200, #"{"status":"success","data":{"resultType":"matrix","result":[]}}"#, .malformedResponse, #"result type "matrix" where a vector was expected"#),
        (200, #"{"status":"success","data":{"resultType":"scalar","result":[1,"1"]}}"#, .malformedResponse, "undecodable answer (HTTP 200)"),
        (200, "{not json", .malformedResponse, "undecodable answer (HTTP 200)"),
        (200, #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,2]}]}}"#, .malformedResponse, "undecodable answer (HTTP 200)"),
        (200, #"{"status":"success"}"#, .malformedResponse, #"status "success" without data"#),
        (401, "Unauthorized: Bearer secret-token\nerror.kind=forged", .unauthorized, "HTTP 401: the credentials were refused"),
        (403, #"{"status":"error","errorType":"forbidden","error":"no org id"}"#, .unauthorized, "HTTP 403: the credentials were refused"),
    ])
    func failures(status: Int, body: String, kind: PrometheusQueryError.Kind, detail: String) async throws {
        let prometheus = ScriptedPrometheus(status: status, body: body)
        try await prometheus.run { port in
            let client = try Self.client(port: port)
            await #expect {
                _ = try await client.instantQuery("up")
            } throws: { error in
                guard let error = error as? PrometheusQueryError else { return false }
                // The refused body never reaches the detail (it is logged): it may echo the credential.
                return error.kind == kind && error.detail.hasPrefix(detail) && !error.detail.contains("secret-token")
            }
            try await client.shutdown()
        }
    }

    @Test func slowerThanTheTimeout() async throws {
        let prometheus = ScriptedPrometheus(body: Self.vector)
        prometheus.answer.withLock { $0.delay = .seconds(3) }
        try await prometheus.run { port in
            let client = try Self.client(port: port, timeout: .milliseconds(300))
            let started = ContinuousClock.now
            await #expect {
                _ = try await client.instantQuery("up")
            } throws: { error in
                (error as? PrometheusQueryError)?.kind == .timeout
            }
            #expect(ContinuousClock.now - started < .seconds(2))
            try await client.shutdown()
        }
    }

    @Test func connectionRefused() async throws {
        // Bind and release a port so that nothing listens on it.
        let client = try Self.client(port: 1)
        await #expect {
            _ = try await client.instantQuery("up")
        } throws: { error in
            (error as? PrometheusQueryError)?.kind == .unreachable
        }
        try await client.shutdown()
    }

    @Test(arguments: ["ftp://prometheus", "prometheus:9090", "http://"])
    func invalidURL(url: String) {
        #expect {
            _ = try PrometheusHTTPClient(configuration: .init(url: url))
        } throws: { error in
            "\(error)" == "--prometheus-url \"\(url)\" must be an http:// or https:// URL with a host"
        }
    }

    static let matrix = #"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"namespace":"team-a","pod":"triton-0"},"values":[[1795000000,"0.5"],[1795000015,"NaN"],[1795000030,"1.25"]]}]}}"#

    @Test func rangeQueriesPostToQueryRangeAndDecodeTheMatrix() async throws {
        let prometheus = ScriptedPrometheus(body: Self.matrix)
        try await prometheus.run { port in
            let client = try Self.client(port: port)
            defer { Task { try? await client.shutdown() } }
            let series = try await client.rangeQuery("up", start: 1_795_000_000, end: 1_795_000_030, step: 15)
            #expect(series.count == 1)
            #expect(series[0].labels == ["namespace": "team-a", "pod": "triton-0"])
            #expect(series[0].samples.map(\.timestamp) == [1_795_000_000, 1_795_000_015, 1_795_000_030])
            #expect(series[0].samples.map(\.value) == ["0.5", "NaN", "1.25"])
            let seen = try #require(prometheus.seen.withLock { $0.last })
            #expect(seen.path == "/prefix/api/v1/query_range")
            #expect(seen.body == "query=up&start=1795000000&end=1795000030&step=15&timeout=2000ms")
        }
    }

    @Test func aRangeQueryAnsweredWithAVectorIsMalformed() async throws {
        let prometheus = ScriptedPrometheus(body: Self.vector)
        try await prometheus.run { port in
            let client = try Self.client(port: port)
            defer { Task { try? await client.shutdown() } }
            await #expect(throws: PrometheusQueryError(.malformedResponse, #"result type "vector" where a matrix was expected"#)) {
                _ = try await client.rangeQuery("up", start: 0, end: 15, step: 15)
            }
        }
    }
}
