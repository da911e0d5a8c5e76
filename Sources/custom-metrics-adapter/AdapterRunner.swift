import CustomMetricsAPI
import CustomMetricsServer
import Hummingbird
import KubernetesClient
import Logging
import MetricRules
import Metrics
import Prometheus
import PrometheusAdapterConfig
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
        // The Kubernetes API serves the pods unless a pods file does, and the reviews unless local mode is on.
        let needsKubernetes = settings.podsFile == nil || !settings.auth.insecureLocalMode
        let kubeConfig: KubeConfig? = needsKubernetes
            ? try (settings.kubeconfigPath.map { try KubeConfig.load(path: $0) } ?? KubeConfig.inCluster()) : nil
        let podsFile: PodsFile?
        if let path = settings.podsFile {
            logger.warning("pods come from a local file, not the Kubernetes API", metadata: ["pods-file": "\(path)"])
            podsFile = try PodsFile(path: path)
        } else {
            podsFile = nil
        }

        let prometheus = try PrometheusHTTPClient(configuration: settings.prometheus)
        var services: [any Service] = []
        let kubernetes = kubeConfig.map { KubernetesAPIClient(config: $0) }
        let pods: any PodDirectory
        switch (podsFile, kubernetes) {
        case (let file?, _):
            pods = file
        case (nil, let client?):
            let cache = PodCache(client: client, logger: logger)
            services.append(cache)
            pods = cache
        case (nil, nil):
            preconditionFailure("without --pods-file the Kubernetes API is always configured")
        }

        let auth: AuthConfiguration
        if !settings.auth.insecureLocalMode, let kubernetes {
            let reviewer = KubernetesReviewer(client: kubernetes)
            let requestHeader = RequestHeaderAuthenticator()
            let source: any RequestHeaderSource
            if let caFile = self.settings.auth.requestHeaderCAFile {
                source = RequestHeaderFile(caFile: caFile, template: self.settings.auth.requestHeaderTemplate)
            } else {
                source = reviewer
            }
            let refresher = RequestHeaderRefresher(
                authenticator: requestHeader, source: source, interval: settings.auth.refreshInterval, logger: logger
            )
            await refresher.refresh()
            services.append(refresher)
            auth = AuthConfiguration(
                tokenReviewer: reviewer,
                accessReviewer: reviewer,
                requestHeader: requestHeader,
                alwaysAllowPaths: settings.auth.alwaysAllowPaths,
                tokenCacheTTL: settings.auth.tokenCacheTTL,
                authorizedCacheTTL: settings.auth.authorizedCacheTTL,
                unauthorizedCacheTTL: settings.auth.unauthorizedCacheTTL
            )
        } else {
            logger.warning("INSECURE LOCAL MODE: every caller is served without authentication or authorization")
            auth = .insecureLocal
        }
        if let files = settings.certificateFiles, let store = settings.server.certificates {
            services.append(ServingCertificateReloader(
                store: store, certificateFile: files.certificate, privateKeyFile: files.key,
                interval: settings.tlsReloadInterval, logger: logger
            ))
        }

        let rules = RuleStore(settings.rules)
        var relister: SeriesRelister?
        if let discoveryConfig = settings.discoveryConfig {
            let discovery = SeriesRelister(
                config: discoveryConfig, store: rules, listing: prometheus, interval: settings.relistInterval, logger: logger,
                metricsFactory: factory
            )
            // Serve with what Prometheus has now; a failed first listing is retried every interval.
            await discovery.relist()
            services.append(discovery)
            relister = discovery
        }
        if let configFile = settings.configFile {
            let currentRelister = relister
            services.append(RuleFileReloader(
                store: rules, path: configFile, interval: settings.configReloadInterval, logger: logger, metricsFactory: factory,
                parse: { text in
                    switch try AdapterSettings.parseConfig(text) {
                    case .native(let native):
                        guard currentRelister == nil else {
                            throw SettingsError("the file changed from prometheus-adapter's format to `metrics:`; that needs a restart")
                        }
                        return native
                    case .prometheusAdapter(let adapterConfig):
                        guard let currentRelister else {
                            throw SettingsError("the file changed from `metrics:` to prometheus-adapter's format; that needs a restart")
                        }
                        return await currentRelister.install(adapterConfig)
                    }
                }
            ))
        }
        let provider = PrometheusMetricsProvider(
            rules: rules, prometheus: prometheus, pods: pods, logger: logger, metricsFactory: factory,
            coalescer: QueryCoalescer(configuration: settings.queryCoalescing, metricsFactory: factory)
        )
        let router = buildRouter(
            provider: provider, auth: auth, external: provider, limits: settings.server.limits, metricsFactory: factory,
            metricsText: { registry.emitToString() }
        )
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
        // The server stops accepting on SIGTERM and drains in-flight requests; past the bound, the
        // remaining work is cancelled.
        var groupConfiguration = ServiceGroupConfiguration(
            services: [.init(service: app)] + services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        groupConfiguration.maximumGracefulShutdownDuration = settings.shutdownTimeout
        let group = ServiceGroup(configuration: groupConfiguration)
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
