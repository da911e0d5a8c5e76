import CustomMetricsAPI
import Hummingbird
import HummingbirdCore
import HummingbirdHTTP2
import HummingbirdTLS
import Logging
import Metrics
import NIOCore
import NIOSSL
import ServiceLifecycle

/// How and where to serve.
public struct ServerConfiguration: Sendable {
    /// The address to bind (`0.0.0.0`, `::`, `127.0.0.1`).
    public var bindAddress: String
    /// The port; 0 picks a free one.
    public var port: Int
    /// The serving certificate, swapped on rotation; nil serves plain HTTP/1.1 (only for tests).
    public var certificates: ServingCertificateStore?
    /// Header sizes and idle time per connection.
    public var limits: RequestLimits

    public init(bindAddress: String = "0.0.0.0", port: Int = 6443, certificates: ServingCertificateStore?, limits: RequestLimits = RequestLimits()) {
        self.bindAddress = bindAddress
        self.port = port
        self.certificates = certificates
        self.limits = limits
    }
}

/// The router serving the custom metrics API, health and self-metrics; tests drive the same router.
///
/// - Parameters:
///   - provider: Where metric values come from.
///   - auth: Authentication and authorization; `.insecureLocal` turns both off.
///   - external: Serves external.metrics.k8s.io when given; otherwise that group is 404.
///   - limits: URI length and request timeout.
///   - metricsFactory: Where request counts and latencies go.
///   - metricsText: Renders `/metrics`.
public func buildRouter<Provider: CustomMetricsProvider>(
    provider: Provider,
    auth: AuthConfiguration,
    external: (any ExternalMetricsProvider)? = nil,
    limits: RequestLimits = RequestLimits(),
    metricsFactory: any MetricsFactory = MetricsSystem.factory,
    metricsText: @escaping @Sendable () -> String = { "" }
) -> Router<AdapterRequestContext> {
    let router = Router(context: AdapterRequestContext.self)
    router.add(middleware: StatusMiddleware(metricsFactory: metricsFactory))
    router.add(middleware: AuthMiddleware(configuration: auth))
    CustomMetricsController<Provider, AdapterRequestContext>(provider: provider, limits: limits).addRoutes(to: router)
    if let external {
        ExternalMetricsController<AnyExternalMetricsProvider, AdapterRequestContext>(
            provider: AnyExternalMetricsProvider(external), limits: limits
        ).addRoutes(to: router)
    }
    HealthController<AdapterRequestContext>(metricsText: metricsText).addRoutes(to: router)
    return router
}

/// The HTTPS application: TLS with HTTP/2 negotiated through ALPN, HTTP/1.1 otherwise, on one port.
///
/// A client certificate is requested but not required; it is verified against the front-proxy CA by
/// `AuthMiddleware`, per request, so a CA rotation needs no new TLS context.
///
/// - Parameters:
///   - router: From `buildRouter`.
///   - configuration: Address, port and certificate.
///   - services: Background services to run beside the server (the pod cache, reloaders).
///   - shutdownTimeout: How long in-flight requests may take after SIGTERM.
///   - onServerRunning: Called with the bound channel once listening (tests read the port from it).
public func buildApplication(
    router: Router<AdapterRequestContext>,
    configuration: ServerConfiguration,
    services: [any Service] = [],
    logger: Logger,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let limits = configuration.limits
    let http1 = HTTP1Channel.Configuration(
        idleTimeout: TimeAmount(limits.idleTimeout),
        httpDecoderConfiguration: .init(
            maxHeaderFieldSize: limits.maximumHeaderFieldSize,
            maxHeaderListSize: limits.maximumHeaderListSize,
            maxHeaderFieldCount: limits.maximumHeaderCount
        )
    )
    let server: HTTPServerBuilder
    if let store = configuration.certificates {
        let certificate = store.certificate
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: certificate.chain.map { .certificate($0) },
            privateKey: .privateKey(certificate.privateKey)
        )
        tls.minimumTLSVersion = .tlsv12
        tls.certificateVerification = .optionalVerification
        tls.sslContextCallback = store.contextCallback
        server = try .http2Upgrade(
            tlsChannelConfiguration: HummingbirdHTTP2.TLSChannelConfiguration(
                tlsConfiguration: tls,
                // Accept any presented chain here; AuthMiddleware decides what it proves.
                customVerificationCallback: { _, promise in promise.succeed(.certificateVerified) }
            ),
            configuration: HTTP2ChannelConfiguration(idleTimeout: limits.idleTimeout, streamConfiguration: http1)
        )
    } else {
        server = .http1(configuration: http1)
    }
    return Application(
        router: router,
        server: server,
        configuration: .init(address: .hostname(configuration.bindAddress, port: configuration.port), serverName: nil),
        services: services,
        onServerRunning: onServerRunning,
        logger: logger
    )
}

/// An existential `ExternalMetricsProvider` as a concrete type, for the generic controller.
struct AnyExternalMetricsProvider: ExternalMetricsProvider {
    let base: any ExternalMetricsProvider
    init(_ base: any ExternalMetricsProvider) { self.base = base }
    func listExternalMetrics() -> [String] { base.listExternalMetrics() }
    func externalMetrics(namespace: String, metric: String, selector: LabelSelector) async throws(MetricsError) -> [ExternalMetricValue] {
        try await base.externalMetrics(namespace: namespace, metric: metric, selector: selector)
    }
}
