import KubernetesClient
import Logging
import ServiceLifecycle
import Synchronization
import Testing

/// Every log line, at every level, as text: message and metadata.
final class CapturingLogHandler: LogHandler, Sendable {
    let lines = Mutex<[String]>([])
    var metadata: Logger.Metadata {
        get { [:] }
        set {}
    }
    var logLevel: Logger.Level {
        get { .trace }
        set {}
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { nil }
        set {}
    }

    func log(event: LogEvent) {
        let error = event.error.map { " error: \($0)" } ?? ""
        lines.withLock { $0.append("\(event.level) \(event.message) \(event.metadata ?? [:])\(error)") }
    }
}

/// A service holding a Kubernetes configuration, as the pod cache and the reviewers do.
struct ConfiguredService: Service {
    let client: KubernetesAPIClient
    let config: KubeConfig
    func run() async throws {}
}

@Suite("No secret in any log line at any level")
struct RedactionTests {
    static let token = "eyJhbGciOiJSUzI1NiJ9.secret-token-value"

    @Test(.timeLimit(.minutes(1)), arguments: Logger.Level.allCases)
    func aKubeConfigTokenNeverReachesALog(level: Logger.Level) async throws {
        let config = KubeConfig(server: "https://10.0.0.1:443", token: Self.token, tokenFile: "/var/run/secrets/token")
        let client = KubernetesAPIClient(config: config)
        let handler = CapturingLogHandler()
        var logger = Logger(label: "test") { _ in handler }
        logger.logLevel = level
        // swift-service-lifecycle prints each service's description at debug level (`--v=4`).
        let group = ServiceGroup(configuration: .init(services: [.init(service: ConfiguredService(client: client, config: config))], logger: logger))
        // The service returns at once; the group may report that as unexpected: only its logs matter here.
        try? await group.run()
        try await client.shutdown()
        for text in ["\(config)", String(reflecting: config), "\(client)", String(reflecting: client)] {
            logger.log(level: level, "describing", metadata: ["value": "\(text)"])
            var dumped = ""
            dump(config, to: &dumped)
            logger.log(level: level, "dumped", metadata: ["value": "\(dumped)"])
        }
        let lines = handler.lines.withLock { $0 }
        #expect(!lines.isEmpty)
        for line in lines {
            #expect(!line.contains(Self.token), "\(line)")
        }
        #expect(lines.contains { $0.contains("token: <redacted>") })
        #expect(lines.contains { $0.contains("tokenFile: /var/run/secrets/token") })
    }
}
