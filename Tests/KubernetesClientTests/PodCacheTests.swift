import AsyncHTTPClient
import CustomMetricsAPI
import Foundation
import KubernetesClient
import Logging
import MetricRules
import NIOCore
import NIOHTTP1
import NIOSSL
import Testing

/// Runs the Kubernetes API stand-in (`tests/support/kube_standin.py`, `python3 -m tests.support.kube_standin`
/// from the repository root) on a free loopback port for one test. It serves HTTPS with its own CA, as
/// kube-apiserver does; the kubeconfig it writes names that CA and the stand-in's token.
final class KubeStandIn: Sendable {
    let process: Process
    let directory: String
    let port: Int
    /// Trusts the stand-in's CA, for its `/_control` hooks.
    let controlClient: HTTPClient
    var kubeconfigPath: String { directory + "/kubeconfig" }
    /// A kubeconfig that authenticates with the stand-in's admin client certificate instead of a token.
    var certificateKubeconfigPath: String { directory + "/cert-kubeconfig" }
    /// The CA that signs the stand-in's serving certificate: what a pod's service-account `ca.crt` holds.
    var caPath: String { directory + "/pki/apiserver-ca.crt" }

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
        process.currentDirectoryURL = URL(fileURLWithPath: Self.repositoryRoot)
        process.arguments = [
            "-m", "tests.support.kube_standin", "--port", "0", "--port-file", directory + "/port",
            "--pods", podsFile, "--kubeconfig-out", directory + "/kubeconfig",
            "--cert-kubeconfig-out", directory + "/cert-kubeconfig", "--pki-dir", directory + "/pki",
        ]
        try process.run()
        // Budget: PKI generation (nine openssl key and certificate pairs) takes 1-3 s on a loaded 2-core
        // machine; 20 s leaves a wide margin. Past it, the test fails with this message.
        var port: Int?
        for _ in 0..<400 where port == nil {
            if let text = try? String(contentsOfFile: directory + "/port", encoding: .utf8) {
                port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
            } else if !process.isRunning {
                break
            } else {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        guard let port else {
            kill(process.processIdentifier, SIGKILL)
            throw KubeStandInError(description: "the stand-in did not start within 20 s (running: \(process.isRunning))")
        }
        self.port = port
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(directory + "/pki/apiserver-ca.crt")
        controlClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
    }

    /// Kills the stand-in by PID and waits for it without blocking a thread of the cooperative pool.
    /// SIGKILL, because a child of the test process may inherit a signal mask that blocks SIGTERM.
    func stop() async {
        try? await controlClient.shutdown()
        kill(process.processIdentifier, SIGKILL)
        for _ in 0..<200 where process.isRunning {
            try? await Task.sleep(for: .milliseconds(50))
        }
        #expect(!process.isRunning, "the stand-in (pid \(process.processIdentifier)) did not exit within 10 s of SIGKILL")
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Calls the stand-in's `/_control` API.
    func control(_ method: HTTPMethod, _ path: String, _ body: [String: Any]? = nil) async throws {
        var request = HTTPClientRequest(url: "https://127.0.0.1:\(port)/_control/\(path)")
        request.method = method
        if let body { request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body))) }
        let response = try await controlClient.execute(request, timeout: .seconds(5))
        _ = try await response.body.collect(upTo: 1 << 20)
        #expect(response.status == .ok, "control \(path)")
    }

    /// The paths of the requests the stand-in saw, oldest first, with who they were authenticated as.
    func requests() async throws -> [(path: String, user: String?)] {
        let response = try await controlClient.execute(
            HTTPClientRequest(url: "https://127.0.0.1:\(port)/_control/requests"), timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 16 << 20)
        let entries = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [[String: Any]] ?? []
        return entries.map { ($0["path"] as? String ?? "", $0["user"] as? String) }
    }
}

/// Lays out or updates `directory` exactly as kubelet does for a Secret or ConfigMap volume
/// (`key -> ..data/key`, `..data -> ..<timestamp>`, updated by a `..data` swap), through the one shared
/// fixture, `tests/support/kubelet_volume.py`.
func kubeletVolume(_ directory: String, _ files: [String: String]) async throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    process.currentDirectoryURL = URL(fileURLWithPath: KubeStandIn.repositoryRoot)
    process.standardOutput = FileHandle.nullDevice
    process.arguments = ["-m", "tests.support.kubelet_volume", directory] + files.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
    try process.run()
    for _ in 0..<600 where process.isRunning {
        try await Task.sleep(for: .milliseconds(50))
    }
    guard !process.isRunning else {
        kill(process.processIdentifier, SIGKILL)
        throw KubeStandInError(description: "kubelet_volume did not finish within 30 s")
    }
    guard process.terminationStatus == 0 else {
        throw KubeStandInError(description: "kubelet_volume \(directory) exited with \(process.terminationStatus)")
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

    /// Polls `condition` every 50 ms for at most `seconds`; false when it never held (callers `#require` it,
    /// so a wait that gives up fails the test there).
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

    /// Starts a stand-in and a cache (through the kubeconfig the stand-in wrote, or `kubeconfig` of it),
    /// runs `body`, and stops both.
    static func withCache(
        pageSize: Int = 500, kubeconfig: (KubeStandIn) -> String = \.kubeconfigPath,
        _ body: (KubeStandIn, PodCache) async throws -> Void
    ) async throws {
        let standIn = try await KubeStandIn(pods: pods)
        let client: KubernetesAPIClient
        do {
            client = KubernetesAPIClient(config: try KubeConfig.load(path: kubeconfig(standIn)))
        } catch {
            await standIn.stop()
            throw error
        }
        let cache = PodCache(client: client, logger: Logger(label: "test"), watchTimeoutSeconds: 30, pageSize: pageSize)
        let task = Task { try await cache.run() }
        var failure: (any Error)?
        do {
            try await body(standIn, cache)
        } catch {
            failure = error
        }
        task.cancel()
        _ = await task.result
        try await client.shutdown()
        await standIn.stop()
        if let failure { throw failure }
    }

    @Test(.timeLimit(.minutes(1))) func notSyncedMeansServiceUnavailable() async throws {
        let client = KubernetesAPIClient(config: KubeConfig(server: "http://127.0.0.1:1"))
        let cache = PodCache(client: client, logger: Logger(label: "test"))
        await #expect(throws: MetricsError(.serviceUnavailable, "the pod cache has not synced with the Kubernetes API yet")) {
            _ = try await cache.pods(inNamespace: "team-a")
        }
        try await client.shutdown()
    }

    @Test(.timeLimit(.minutes(1))) func listsPagesAndFollowsTheWatch() async throws {
        try await Self.withCache(pageSize: 2) { standIn, cache in
            try #require(try await Self.eventually { cache.isSynced })
            #expect(try await Self.names(cache, "team-a") == ["triton-0", "triton-1"])
            #expect(try await Self.names(cache, "team-b") == ["triton-0"])

            try await standIn.control(.POST, "pods", ["namespace": "team-a", "name": "triton-2", "labels": ["app": "triton"]])
            try #require(try await Self.eventually { try await Self.names(cache, "team-a") == ["triton-0", "triton-1", "triton-2"] })

            try await standIn.control(.POST, "pods", ["namespace": "team-a", "name": "triton-1", "deletionTimestamp": "2026-01-01T00:00:00Z"])
            try #require(try await Self.eventually { try await Self.names(cache, "team-a") == ["triton-0", "triton-2"] })

            try await standIn.control(.DELETE, "pods/team-a/triton-0")
            try #require(try await Self.eventually { try await Self.names(cache, "team-a") == ["triton-2"] })

            try await standIn.control(.POST, "pods", ["namespace": "team-a", "name": "triton-2", "labels": ["app": "other"]])
            try #require(try await Self.eventually {
                try await cache.pods(inNamespace: "team-a").first { $0.name == "triton-2" }?.labels == ["app": "other"]
            })
        }
    }

    /// Kept answers are keyed by a namespace's generation: it must move on every change a request could
    /// see there, and only there.
    @Test(.timeLimit(.minutes(1))) func generationsMoveWithTheirNamespaceOnly() async throws {
        try await Self.withCache { standIn, cache in
            try #require(try await Self.eventually { cache.isSynced })
            let a0 = try #require(cache.generation(ofNamespace: "team-a"))
            let b0 = try #require(cache.generation(ofNamespace: "team-b"))

            try await standIn.control(.POST, "pods", ["namespace": "team-a", "name": "triton-2", "labels": ["app": "triton"]])
            try #require(try await Self.eventually { try await Self.names(cache, "team-a").contains("triton-2") })
            let a1 = try #require(cache.generation(ofNamespace: "team-a"))
            #expect(a1 > a0)
            #expect(cache.generation(ofNamespace: "team-b") == b0)

            try await standIn.control(.DELETE, "pods/team-a/triton-2")
            try #require(try await Self.eventually { try await !Self.names(cache, "team-a").contains("triton-2") })
            #expect(try #require(cache.generation(ofNamespace: "team-a")) > a1)
            #expect(cache.generation(ofNamespace: "team-b") == b0)
        }
    }

    @Test(.timeLimit(.minutes(1))) func relistsAfterGoneAndResumesBrokenWatches() async throws {
        try await Self.withCache { standIn, cache in
            try #require(try await Self.eventually { cache.isSynced })
            let listsBefore = cache.counters.lists

            // A broken stream resumes from the last version: changes made meanwhile arrive.
            try await standIn.control(.POST, "break-watches")
            try await standIn.control(.POST, "pods", ["namespace": "team-a", "name": "triton-5"])
            try #require(try await Self.eventually { try await Self.names(cache, "team-a").contains("triton-5") })

            // While the cache is cut off, a pod is added and history is compacted past the cache's version:
            // resuming the watch gets 410 Gone, so the cache lists again and sees the pod.
            try await standIn.control(.POST, "fail", ["status": 503, "count": -1])
            try await standIn.control(.POST, "break-watches")
            try await standIn.control(.POST, "pods", ["namespace": "team-a", "name": "triton-6"])
            try await standIn.control(.POST, "compact")
            try await standIn.control(.POST, "fail", ["status": 0])
            try #require(try await Self.eventually(15) { cache.counters.lists > listsBefore })
            try #require(try await Self.eventually { try await Self.names(cache, "team-a") == ["triton-0", "triton-1", "triton-5", "triton-6"] })
        }
    }

    @Test(.timeLimit(.minutes(1))) func keepsServingWhileTheAPIFails() async throws {
        try await Self.withCache { standIn, cache in
            try #require(try await Self.eventually { cache.isSynced })
            let watchesBefore = cache.counters.watches
            try await standIn.control(.POST, "fail", ["status": 503, "count": -1])
            try await standIn.control(.POST, "break-watches")
            // Observe that the cache did react: it noticed the broken watch and tried again at least twice
            // (each attempt answered 503), instead of sleeping and hoping that "nothing changed" means it.
            try #require(try await Self.eventually(15) { cache.counters.watches >= watchesBefore + 2 })
            let watchRequests = try await standIn.requests().filter { $0.path.hasPrefix("/api/v1/pods?watch=1") }
            #expect(watchRequests.count >= watchesBefore + 2, "every attempt reached the API server")
            #expect(try await Self.names(cache, "team-a") == ["triton-0", "triton-1"])
            try await standIn.control(.POST, "fail", ["status": 0])
            try await standIn.control(.POST, "pods", ["namespace": "team-a", "name": "triton-7"])
            try #require(try await Self.eventually(15) { try await Self.names(cache, "team-a").contains("triton-7") })
        }
    }
}

extension PodCacheTests {
    @Test(.timeLimit(.minutes(1))) func listsWithAClientCertificateKubeconfig() async throws {
        try await Self.withCache(kubeconfig: \.certificateKubeconfigPath) { standIn, cache in
            try #require(try await Self.eventually { cache.isSynced })
            #expect(try await Self.names(cache, "team-a") == ["triton-0", "triton-1"])
            let list = try await standIn.requests().first { $0.path.hasPrefix("/api/v1/pods?limit=") }
            #expect(list?.user == "standin-admin", "authenticated by the certificate's CommonName")
        }
    }

    /// The in-cluster path: `KUBERNETES_SERVICE_HOST/PORT` and a projected service-account volume with
    /// `ca.crt`, `token` and `namespace`, laid out and rotated as kubelet does.
    @Test(.timeLimit(.minutes(1))) func inClusterServiceAccountAndRotatedToken() async throws {
        let standIn = try await KubeStandIn(pods: Self.pods)
        let account = standIn.directory + "/serviceaccount"
        let user = "system:serviceaccount:cma:custom-metrics-adapter"
        var client: KubernetesAPIClient?
        do {
            try await kubeletVolume(account, ["ca.crt": "@" + standIn.caPath, "token": "sa-token-1", "namespace": "cma"])
            try await standIn.control(.POST, "api-tokens", ["sa-token-1": user])
            let config = try KubeConfig.inCluster(
                environment: ["KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": "\(standIn.port)"],
                accountDirectory: account
            )
            #expect(config.server == "https://127.0.0.1:\(standIn.port)")
            let api = KubernetesAPIClient(config: config)
            client = api
            #expect(try await api.get("/api/v1/pods?limit=1").status == 200)

            // The token rotates: the API server accepts only the new one from now on...
            try await standIn.control(.POST, "api-tokens", ["sa-token-2": user])
            #expect(try await api.get("/api/v1/pods?limit=1").status == 401)
            // ...and kubelet swaps ..data to a folder holding it: the next request must send it.
            try await kubeletVolume(account, ["ca.crt": "@" + standIn.caPath, "token": "sa-token-2", "namespace": "cma"])
            #expect(try await api.get("/api/v1/pods?limit=1").status == 200)
            #expect(try await standIn.requests().last?.user == user)
        } catch {
            try? await client?.shutdown()
            await standIn.stop()
            throw error
        }
        try await client?.shutdown()
        await standIn.stop()
    }

    @Test(.timeLimit(.minutes(1))) func anUntrustedServerIsRefused() async throws {
        let standIn = try await KubeStandIn(pods: Self.pods)
        // The right server and token, but no CA: the system roots do not trust the stand-in's CA.
        let client = KubernetesAPIClient(config: KubeConfig(server: "https://127.0.0.1:\(standIn.port)", token: "standin-token"))
        await #expect(throws: (any Error).self) { _ = try await client.get("/api/v1/pods?limit=1", timeout: .seconds(10)) }
        try await client.shutdown()
        await standIn.stop()
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

    @Test(.timeLimit(.minutes(1))) func podsFile() async throws {
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

    /// A pods file in a ConfigMap volume: kubelet's `..data` swap leaves `<dir>/pods.yaml` (a symlink) with
    /// the same attributes, so only a reader that watches the resolved content sees the update.
    @Test(.timeLimit(.minutes(1))) func podsFileFollowsAKubeletVolumeUpdate() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pods-volume-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try await kubeletVolume(directory, ["pods.yaml": "pods: [{namespace: team-a, name: triton-0}]"])
        let file = try PodsFile(path: directory + "/pods.yaml")
        #expect(try await file.pods(inNamespace: "team-a").map(\.name) == ["triton-0"])
        try await kubeletVolume(directory, ["pods.yaml": "pods: [{namespace: team-a, name: triton-1}]"])
        #expect(try await file.pods(inNamespace: "team-a").map(\.name) == ["triton-1"])
    }
}
