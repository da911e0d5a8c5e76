import AsyncHTTPClient
import CustomMetricsAPI
import Foundation
import KubernetesClient
import Logging
import MetricRules
import NIOCore
import NIOHTTP1
import Testing

/// Runs `scripts/kube_standin.py`, the Kubernetes API stand-in that speaks the real list/watch wire
/// format, on a free loopback port for one test.
final class KubeStandIn: Sendable {
    let process: Process
    let directory: String
    let port: Int
    var kubeconfigPath: String { directory + "/kubeconfig" }

    static var repositoryRoot: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    }

    init(pods: [[String: Any]]) async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("standin-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let podsFile = directory + "/pods.json"
        try JSONSerialization.data(withJSONObject: ["pods": pods]).write(to: URL(fileURLWithPath: podsFile))
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [
            Self.repositoryRoot + "/scripts/kube_standin.py", "--port", "0", "--port-file", directory + "/port",
            "--pods", podsFile, "--kubeconfig-out", directory + "/kubeconfig",
        ]
        try process.run()
        var port: Int?
        for _ in 0..<200 where port == nil {
            if let text = try? String(contentsOfFile: directory + "/port", encoding: .utf8) {
                port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
            } else {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        guard let port else {
            kill(process.processIdentifier, SIGKILL)
            throw KubeStandInError(description: "the stand-in did not start within 10 s")
        }
        self.port = port
    }

    /// Kills the stand-in by PID. SIGKILL, because a child of the test process may inherit a signal
    /// mask that blocks SIGTERM.
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Calls the stand-in's `/_control` API.
    func control(_ method: HTTPMethod, _ path: String, _ body: [String: Any]? = nil) async throws {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/_control/\(path)")
        request.method = method
        if let body { request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body))) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        _ = try await response.body.collect(upTo: 1 << 20)
        #expect(response.status == .ok, "control \(path)")
    }
}

struct KubeStandInError: Error, CustomStringConvertible {
    let description: String
}

@Suite("PodCache: list + watch against the API stand-in", .serialized)
struct PodCacheTests {
    nonisolated(unsafe) static let pods: [[String: Any]] = [
        ["namespace": "team-a", "name": "triton-0", "labels": ["app": "triton"]],
        ["namespace": "team-a", "name": "triton-1", "labels": ["app": "triton"]],
        ["namespace": "team-b", "name": "triton-0", "labels": ["app": "triton"]],
    ]

    /// Polls `condition` every 50 ms for at most `seconds`.
    static func eventually(_ seconds: Double = 10, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }

    static func names(_ cache: PodCache, _ namespace: String) async throws -> [String] {
        try await cache.pods(inNamespace: namespace).filter(\.isLive).map(\.name).sorted()
    }

    /// Starts a stand-in and a cache, runs `body`, and stops both.
    static func withCache(pageSize: Int = 500, _ body: (KubeStandIn, PodCache) async throws -> Void) async throws {
        let standIn = try await KubeStandIn(pods: pods)
        defer { standIn.stop() }
        let client = KubernetesAPIClient(config: try KubeConfig.load(path: standIn.kubeconfigPath))
        let cache = PodCache(client: client, logger: Logger(label: "test"), watchTimeoutSeconds: 30, pageSize: pageSize)
        let task = Task { try await cache.run() }
        do {
            try await body(standIn, cache)
        } catch {
            task.cancel()
            _ = await task.result
            try await client.shutdown()
            throw error
        }
        task.cancel()
        _ = await task.result
        try await client.shutdown()
    }

    @Test func notSyncedMeansServiceUnavailable() async throws {
        let client = KubernetesAPIClient(config: KubeConfig(server: "http://127.0.0.1:1"))
        let cache = PodCache(client: client, logger: Logger(label: "test"))
        await #expect(throws: MetricsError(.serviceUnavailable, "the pod cache has not synced with the Kubernetes API yet")) {
            _ = try await cache.pods(inNamespace: "team-a")
        }
        try await client.shutdown()
    }

    @Test func listsPagesAndFollowsTheWatch() async throws {
        try await Self.withCache(pageSize: 2) { standIn, cache in
            #expect(try await Self.eventually { cache.isSynced })
            #expect(try await Self.names(cache, "team-a") == ["triton-0", "triton-1"])
            #expect(try await Self.names(cache, "team-b") == ["triton-0"])

            try await standIn.control(.POST, "pods", ["namespace": "team-a", "name": "triton-2", "labels": ["app": "triton"]])
            #expect(try await Self.eventually { try await Self.names(cache, "team-a") == ["triton-0", "triton-1", "triton-2"] })

            try await standIn.control(.POST, "pods", ["namespace": "team-a", "name": "triton-1", "deletionTimestamp": "2026-01-01T00:00:00Z"])
            #expect(try await Self.eventually { try await Self.names(cache, "team-a") == ["triton-0", "triton-2"] })

            try await standIn.control(.DELETE, "pods/team-a/triton-0")
            #expect(try await Self.eventually { try await Self.names(cache, "team-a") == ["triton-2"] })

            try await standIn.control(.POST, "pods", ["namespace": "team-a", "name": "triton-2", "labels": ["app": "other"]])
            #expect(try await Self.eventually {
                try await cache.pods(inNamespace: "team-a").first { $0.name == "triton-2" }?.labels == ["app": "other"]
            })
        }
    }

    @Test func relistsAfterGoneAndResumesBrokenWatches() async throws {
        try await Self.withCache { standIn, cache in
            #expect(try await Self.eventually { cache.isSynced })
            let listsBefore = cache.counters.lists

            // A broken stream resumes from the last version: changes made meanwhile arrive.
            try await standIn.control(.POST, "break-watches")
            try await standIn.control(.POST, "pods", ["namespace": "team-a", "name": "triton-5"])
            #expect(try await Self.eventually { try await Self.names(cache, "team-a").contains("triton-5") })

            // While the cache is cut off, a pod is added and history is compacted past the cache's version:
            // resuming the watch gets 410 Gone, so the cache lists again and sees the pod.
            try await standIn.control(.POST, "fail", ["status": 503, "count": -1])
            try await standIn.control(.POST, "break-watches")
            try await standIn.control(.POST, "pods", ["namespace": "team-a", "name": "triton-6"])
            try await standIn.control(.POST, "compact")
            try await standIn.control(.POST, "fail", ["status": 0])
            #expect(try await Self.eventually(15) { cache.counters.lists > listsBefore })
            #expect(try await Self.eventually { try await Self.names(cache, "team-a") == ["triton-0", "triton-1", "triton-5", "triton-6"] })
        }
    }

    @Test func keepsServingWhileTheAPIFails() async throws {
        try await Self.withCache { standIn, cache in
            #expect(try await Self.eventually { cache.isSynced })
            try await standIn.control(.POST, "fail", ["status": 503, "count": -1])
            try await standIn.control(.POST, "break-watches")
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await Self.names(cache, "team-a") == ["triton-0", "triton-1"])
            try await standIn.control(.POST, "fail", ["status": 0])
            try await standIn.control(.POST, "pods", ["namespace": "team-a", "name": "triton-7"])
            #expect(try await Self.eventually(15) { try await Self.names(cache, "team-a").contains("triton-7") })
        }
    }
}

@Suite("KubeConfig and PodsFile")
struct KubeConfigTests {
    @Test func currentContextWithTokenAndInsecure() throws {
        let config = try KubeConfig.parse(yaml: """
            apiVersion: v1
            kind: Config
            clusters:
            - name: a
              cluster: {server: "https://10.0.0.1:6443", insecure-skip-tls-verify: true}
            - name: b
              cluster: {server: "https://other"}
            users:
            - name: u
              user: {token: abc}
            contexts:
            - name: ctx
              context: {cluster: a, user: u}
            current-context: ctx
            """, directory: "/tmp")
        #expect(config.server == "https://10.0.0.1:6443")
        #expect(config.insecureSkipTLSVerify)
        #expect(config.currentToken() == "abc")
    }

    @Test(arguments: [
        ("current-context: x", "kubeconfig: context \"x\" not found"),
        ("clusters: []", "kubeconfig has no current-context"),
        ("[1, 2]", "kubeconfig is not a YAML mapping"),
        ("contexts: [{name: c, context: {cluster: nope}}]\ncurrent-context: c", "kubeconfig: the cluster of context \"c\" is missing or has no server"),
        ("clusters: [{name: a, cluster: {server: s, certificate-authority-data: '%%%'}}]\ncontexts: [{name: c, context: {cluster: a}}]\ncurrent-context: c",
         "kubeconfig: invalid base64 data"),
    ])
    func invalid(yaml: String, message: String) {
        #expect {
            _ = try KubeConfig.parse(yaml: yaml, directory: "/tmp")
        } throws: { error in
            "\(error)" == message
        }
    }

    @Test func inClusterNeedsTheEnvironment() {
        #expect {
            _ = try KubeConfig.inCluster(environment: [:])
        } throws: { error in
            "\(error)".hasPrefix("not running in a cluster (KUBERNETES_SERVICE_HOST/PORT unset)")
        }
    }

    @Test func podsFile() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pods-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try """
            pods:
              - {namespace: team-a, name: triton-0, labels: {app: triton}}
              - {namespace: team-a, name: triton-1, labels: {app: triton}, terminating: true}
              - {namespace: team-b, name: triton-0}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let file = try PodsFile(path: path)
        let pods = try await file.pods(inNamespace: "team-a")
        #expect(pods == [
            PodRecord(namespace: "team-a", name: "triton-0", labels: ["app": "triton"]),
            PodRecord(namespace: "team-a", name: "triton-1", labels: ["app": "triton"], isTerminating: true),
        ])
        try "pods: 3".write(toFile: path, atomically: true, encoding: .utf8)
        #expect { _ = try PodsFile(path: path) } throws: { "\($0)" == "pods file \(path) must hold a `pods:` list" }
    }
}
