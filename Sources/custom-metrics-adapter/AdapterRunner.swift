import CustomMetricsServer
import Hummingbird
import KubernetesClient
import Logging
import MetricRules
import Metrics
import Prometheus
import PrometheusClient
import ServiceLifecycle

/// Wires the pieces together and runs them until SIGTERM or SIGINT.
struct AdapterRunner {
    let settings: AdapterSettings
    let logger: Logger

    func run() async throws {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
            .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
            .seconds(2), .seconds(5), .seconds(10),
        ]

        // Everything that can fail on bad input is read before any HTTP client exists, so an error
        // ends the process with its message rather than with an unclosed client.
        let kubeConfig: KubeConfig?
        switch settings.podSource {
        case .file: kubeConfig = nil
        case .kubeconfig(let path): kubeConfig = try KubeConfig.load(path: path)
        case .inCluster: kubeConfig = try KubeConfig.inCluster()
        }
        let podsFile: PodsFile?
        if case .file(let path) = settings.podSource {
            logger.warning("pods come from a local file, not the Kubernetes API", metadata: ["pods-file": "\(path)"])
            podsFile = try PodsFile(path: path)
        } else {
            podsFile = nil
        }

        let prometheus = try PrometheusHTTPClient(configuration: settings.prometheus)
        var services: [any Service] = []
        var kubernetes: KubernetesAPIClient?
        let pods: any PodDirectory
        if let kubeConfig {
            let client = KubernetesAPIClient(config: kubeConfig)
            kubernetes = client
            let cache = PodCache(client: client, logger: logger)
            services.append(cache)
            pods = cache
        } else if let podsFile {
            pods = podsFile
        } else {
            try? await prometheus.shutdown()
            throw SettingsError("no pod source")
        }

        let provider = PrometheusMetricsProvider(
            rules: settings.rules, prometheus: prometheus, pods: pods, logger: logger, metricsFactory: factory
        )
        let router = buildRouter(provider: provider, metricsFactory: factory, metricsText: { registry.emitToString() })
        let logger = self.logger
        let settings = self.settings
        let app: any ApplicationProtocol
        do {
            app = try buildApplication(
                router: router,
                configuration: settings.server,
                logger: logger,
                onServerRunning: { channel in
                    logger.info("serving custom.metrics.k8s.io", metadata: [
                        "address": "\(channel.localAddress?.description ?? "?")",
                        "certificate": "\(settings.certificateSource)",
                        "rules": "\(settings.rulesSource)",
                        "metrics": "\(settings.rules.rules.map { "\($0.resource)/\($0.name)" }.joined(separator: ","))",
                    ])
                }
            )
        } catch {
            try? await prometheus.shutdown()
            try? await kubernetes?.shutdown()
            throw error
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: app)] + services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        let outcome: Result<Void, any Error>
        do {
            try await group.run()
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        try? await prometheus.shutdown()
        try? await kubernetes?.shutdown()
        try outcome.get()
    }
}
