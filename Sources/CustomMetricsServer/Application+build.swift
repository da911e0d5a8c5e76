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
    /// Handshake timeout, connection cap, pending-request cap.
    public var connections: ConnectionLimits
    /// The TLS 1.2 suites offered (`--tls-cipher-suites`, parsed by `TLSCipherSuites.parse`).
    public var cipherSuites: [NIOTLSCipher]
    /// The front-proxy authenticator, when request-header authentication is on: it is shown each client
    /// certificate chain during the handshake, so leaves issued by an intermediate are trusted. Pass the
    /// same instance as `AuthConfiguration.requestHeader`.
    public var frontProxy: RequestHeaderAuthenticator?

    public init(
        bindAddress: String = "0.0.0.0",
        port: Int = 6443,
        certificates: ServingCertificateStore?,
        limits: RequestLimits = RequestLimits(),
        connections: ConnectionLimits = ConnectionLimits(),
        cipherSuites: [NIOTLSCipher] = TLSCipherSuites.secureDefault,
        frontProxy: RequestHeaderAuthenticator? = nil
    ) {
        self.bindAddress = bindAddress
        self.port = port
        self.certificates = certificates
        self.limits = limits
        self.connections = connections
        self.cipherSuites = cipherSuites
        self.frontProxy = frontProxy
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
    metricsText: @escaping @Sendable () -> String = { "" },
    isReady: @escaping @Sendable () -> Bool = { true }
) -> Router<AdapterRequestContext> {
    let router = Router(context: AdapterRequestContext.self)
    router.add(middleware: StatusMiddleware(metricsFactory: metricsFactory, limits: limits))
    router.add(middleware: AuthMiddleware(configuration: auth, limits: limits))
    MetricsAPIRoutes<_, AdapterRequestContext>(CustomMetricsController(provider: provider), limits: limits).addRoutes(to: router)
    if let external {
        MetricsAPIRoutes<_, AdapterRequestContext>(
            ExternalMetricsController(provider: AnyExternalMetricsProvider(external)), limits: limits
        ).addRoutes(to: router)
    }
    HealthController<AdapterRequestContext>(metricsText: metricsText, isReady: isReady).addRoutes(to: router)
    return router
}

/// The HTTPS application: TLS with HTTP/2 negotiated through ALPN, HTTP/1.1 otherwise, on one port.
///
/// A client certificate is requested but not required; whether it proves a front proxy is decided by
/// `RequestHeaderAuthenticator` (shown the presented chain here, consulted per request by
/// `AuthMiddleware`), so a CA rotation needs no new TLS context. `ConnectionLimits` bound what clients
/// that never authenticate can hold.
///
/// - Parameters:
///   - router: From `buildRouter`.
///   - configuration: Address, port, certificate and limits.
///   - services: Background services to run beside the server (the pod cache, reloaders).
///   - onServerRunning: Called with the bound channel once listening (tests read the port from it).
public func buildApplication(
    router: Router<AdapterRequestContext>,
    configuration: ServerConfiguration,
    services: [any Service] = [],
    logger: Logger,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let limits = configuration.limits
    let connections = configuration.connections
    let pending = AdmissionTable(capacity: connections.maximumPendingRequests)
    let open = AdmissionTable(capacity: connections.maximumConnections)
    let http1 = HTTP1Channel.Configuration(
        additionalChannelHandlers: [PendingRequestGuard(pending: pending, timeout: connections.requestReceiveTimeout)],
        idleTimeout: TimeAmount(limits.idleTimeout),
        httpDecoderConfiguration: .init(
            maxHeaderFieldSize: limits.maximumHeaderFieldSize,
            maxHeaderListSize: limits.maximumHeaderListSize,
            maxHeaderFieldCount: limits.maximumHeaderCount
        )
    )
    let server: HTTPServerBuilder
    if let store = configuration.certificates {
        let tls = HummingbirdHTTP2.TLSChannelConfiguration(
            tlsConfiguration: tlsConfiguration(store.certificate, configuration: configuration),
            customVerificationCallback: verificationCallback(configuration.frontProxy)
        )
        let http2 = HTTP2ChannelConfiguration(idleTimeout: limits.idleTimeout, streamConfiguration: http1)
        server = HTTPServerBuilder { responder in
            ConnectionGuardChannel(
                base: try HTTP2UpgradeChannel(tlsChannelConfiguration: tls, configuration: http2, responder: responder),
                connections: open,
                handshakeTimeout: connections.handshakeTimeout
            )
        }
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

/// TLS 1.2 and 1.3, the configured 1.2 suites, the current serving certificate on every handshake, and
/// a client certificate asked for but optional.
func tlsConfiguration(_ certificate: ServingCertificate, configuration: ServerConfiguration) -> TLSConfiguration {
    var tls = TLSConfiguration.makeServerConfiguration(
        certificateChain: certificate.chain.map { .certificate($0) },
        privateKey: .privateKey(certificate.privateKey)
    )
    tls.minimumTLSVersion = .tlsv12
    tls.cipherSuiteValues = configuration.cipherSuites
    tls.certificateVerification = .optionalVerification
    tls.sslContextCallback = configuration.certificates?.contextCallback
    return tls
}

/// Accepts any presented chain (a client certificate only matters to request-header authentication),
/// after showing it to the front-proxy authenticator so it can remember a leaf that verifies through
/// the intermediates sent with it.
func verificationCallback(_ frontProxy: RequestHeaderAuthenticator?) -> HummingbirdHTTP2.TLSChannelConfiguration.CustomVerificationCallback {
    { certificates, promise in
        guard let frontProxy else {
            promise.succeed(.certificateVerified)
            return
        }
        promise.completeWithTask {
            await frontProxy.admit(presentedChain: certificates)
            return .certificateVerified
        }
    }
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
