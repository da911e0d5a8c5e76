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

/// Wires an adapter from its validated configuration: the Prometheus and Kubernetes clients, the pod
/// directory, authentication, the rules, the provider and the HTTPS application. Tests call it with
/// port 0, as the executable does with its flags.
///
/// Everything that can fail on bad input (kubeconfig, pods file) fails here, before anything runs, and the
/// clients made so far are closed; the rules file was read and validated with the configuration.
///
/// - Throws: `SettingsError` for a file that cannot be used; the underlying error for anything else.
public func buildAdapter(configuration: AdapterConfiguration, logger: Logger) async throws -> Adapter {
    let registry = PrometheusCollectorRegistry()
    let factory = metricsFactory(registry: registry)
    // The Kubernetes API serves the pods unless a pods file does, and the reviews unless local mode is on.
    let needsKubernetes = configuration.podsFile == nil || !configuration.auth.insecureLocalMode
    let kubeConfig: KubeConfig? = needsKubernetes
        ? try (configuration.kubeconfigPath.map { try KubeConfig.load(path: $0) } ?? KubeConfig.inCluster()) : nil
    let podsFile = try configuration.podsFile.map { path in
        logger.warning("pods come from a local file, not the Kubernetes API", metadata: ["pods-file": "\(path)"])
        return try PodsFile(path: path)
    }
    let prometheus = try PrometheusHTTPClient(configuration: configuration.prometheus)
    let kubernetes = kubeConfig.map { KubernetesAPIClient(config: $0) }
    do {
        var services: [any Service] = []
        let pods = podDirectory(file: podsFile, kubernetes: kubernetes, services: &services, logger: logger)
        let auth = await authConfiguration(configuration, kubernetes: kubernetes, services: &services, logger: logger)
        if let files = configuration.certificateFiles, let store = configuration.server.certificates {
            services.append(ServingCertificateReloader(
                store: store, certificateFile: files.certificate, privateKeyFile: files.key,
                interval: configuration.tlsReloadInterval, logger: logger
            ))
        }
        let rules = await RuleFile.source(configuration.rules, listing: prometheus, logger: logger, metricsFactory: factory)
        services += rules.services
        let provider = PrometheusMetricsProvider(
            rules: rules.store, prometheus: prometheus, pods: pods, logger: logger, metricsFactory: factory,
            coalescer: QueryCoalescer(configuration: configuration.queryCoalescing, metricsFactory: factory),
            answers: AnswerCache(metricsFactory: factory)
        )
        let router = buildRouter(
            provider: provider, auth: auth, external: provider, limits: configuration.server.limits, metricsFactory: factory,
            metricsText: { registry.emitToString() }, isReady: { pods.isSynced }
        )
        // The TLS handshake verifies front-proxy chains (with the intermediates the client sends) against
        // the same authenticator the requests are checked with.
        var server = configuration.server
        server.frontProxy = auth.requestHeader
        let certificateSource = configuration.certificateSource
        let application = try buildApplication(
            router: router,
            configuration: server,
            logger: logger,
            onServerRunning: { channel in
                logger.info("serving custom.metrics.k8s.io", metadata: [
                    "address": "\(channel.localAddress?.description ?? "?")",
                    "certificate": "\(certificateSource)",
                    "rules": "\(rules.origin)",
                    "metrics": "\(rules.servedMetrics.joined(separator: ","))",
                ])
            }
        )
        return Adapter(application: application, backgroundServices: services, rules: rules, prometheus: prometheus, kubernetes: kubernetes)
    } catch {
        try? await prometheus.shutdown()
        try? await kubernetes?.shutdown()
        throw error
    }
}

/// The pods file when one is given, else the list+watch cache of the Kubernetes API (a service).
private func podDirectory(
    file: PodsFile?, kubernetes: KubernetesAPIClient?, services: inout [any Service], logger: Logger
) -> any PodDirectory {
    if let file { return file }
    guard let kubernetes else { preconditionFailure("without --pods-file the Kubernetes API is always configured") }
    let cache = PodCache(client: kubernetes, logger: logger)
    services.append(cache)
    return cache
}

/// The adapter's own metrics, with latency buckets from 1 ms to 10 s.
private func metricsFactory(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
    var factory = PrometheusMetricsFactory(registry: registry)
    factory.defaultDurationHistogramBuckets = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .seconds(2), .seconds(5), .seconds(10),
    ]
    return factory
}

/// Front-proxy certificates, TokenReview and SubjectAccessReview against the Kubernetes API; or, in local
/// mode, nobody is checked (and the log says so).
private func authConfiguration(
    _ configuration: AdapterConfiguration,
    kubernetes: KubernetesAPIClient?,
    services: inout [any Service],
    logger: Logger
) async -> AuthConfiguration {
    let settings = configuration.auth
    guard !settings.insecureLocalMode, let kubernetes else {
        logger.warning("INSECURE LOCAL MODE: every caller is served without authentication or authorization")
        return .insecureLocal
    }
    let reviewer = KubernetesReviewer(client: kubernetes)
    let requestHeader = RequestHeaderAuthenticator()
    let source: any RequestHeaderSource
    if let caFile = settings.requestHeaderCAFile {
        source = RequestHeaderFile(caFile: caFile, template: settings.requestHeaderTemplate)
    } else {
        source = reviewer
    }
    let refresher = RequestHeaderRefresher(
        authenticator: requestHeader, source: source, interval: settings.refreshInterval, logger: logger
    )
    await refresher.refresh()
    services.append(refresher)
    return AuthConfiguration(
        tokenReviewer: reviewer,
        accessReviewer: reviewer,
        requestHeader: requestHeader,
        alwaysAllowPaths: settings.alwaysAllowPaths,
        tokenCacheTTL: settings.tokenCacheTTL,
        authorizedCacheTTL: settings.authorizedCacheTTL,
        unauthorizedCacheTTL: settings.unauthorizedCacheTTL,
        cacheMaximumBytes: settings.cacheMaximumBytes
    )
}
