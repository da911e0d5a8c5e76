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

        let prometheus = try PrometheusHTTPClient(configuration: settings.prometheus)
        var services: [any Service] = []
        var kubernetes: KubernetesAPIClient?
        let pods: any PodDirectory
        switch settings.podSource {
        case .file(let path):
            logger.warning("pods come from a local file, not the Kubernetes API", metadata: ["pods-file": "\(path)"])
            pods = try PodsFile(path: path)
        case .kubeconfig(let path):
            let client = KubernetesAPIClient(config: try KubeConfig.load(path: path))
            kubernetes = client
            let cache = PodCache(client: client, logger: logger)
            services.append(cache)
            pods = cache
        case .inCluster:
            let client = KubernetesAPIClient(config: try KubeConfig.inCluster())
            kubernetes = client
            let cache = PodCache(client: client, logger: logger)
            services.append(cache)
            pods = cache
        }

        let provider = PrometheusMetricsProvider(
            rules: settings.rules, prometheus: prometheus, pods: pods, logger: logger, metricsFactory: factory
        )
        let router = buildRouter(provider: provider, metricsFactory: factory, metricsText: { registry.emitToString() })
        let logger = self.logger
        let settings = self.settings
        let app = try buildApplication(
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
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: app)] + services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        do {
            try await group.run()
        } catch {
            try? await prometheus.shutdown()
            try? await kubernetes?.shutdown()
            throw error
        }
        try? await prometheus.shutdown()
        try? await kubernetes?.shutdown()
    }
}
