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
    /// The serving certificate; nil serves plain HTTP/1.1 (only for tests through the router).
    public var certificate: ServingCertificate?

    public init(bindAddress: String = "0.0.0.0", port: Int = 6443, certificate: ServingCertificate?) {
        self.bindAddress = bindAddress
        self.port = port
        self.certificate = certificate
    }
}

/// The router serving the custom metrics API, health and self-metrics; tests drive the same router.
///
/// - Parameters:
///   - provider: Where metric values come from.
///   - metricsFactory: Where request counts and latencies go.
///   - metricsText: Renders `/metrics`.
public func buildRouter<Provider: CustomMetricsProvider>(
    provider: Provider,
    metricsFactory: any MetricsFactory = MetricsSystem.factory,
    metricsText: @escaping @Sendable () -> String = { "" }
) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: StatusMiddleware(metricsFactory: metricsFactory))
    CustomMetricsController<Provider, BasicRequestContext>(provider: provider).addRoutes(to: router)
    HealthController<BasicRequestContext>(metricsText: metricsText).addRoutes(to: router)
    return router
}

/// The HTTPS application: TLS with HTTP/2 negotiated through ALPN, HTTP/1.1 otherwise, on one port.
///
/// - Parameters:
///   - router: From `buildRouter`.
///   - configuration: Address, port and certificate.
///   - services: Background services to run beside the server (the pod cache).
///   - onServerRunning: Called with the bound channel once listening (tests read the port from it).
public func buildApplication(
    router: Router<BasicRequestContext>,
    configuration: ServerConfiguration,
    services: [any Service] = [],
    logger: Logger,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let server: HTTPServerBuilder
    if let certificate = configuration.certificate {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: certificate.chain.map { .certificate($0) },
            privateKey: .privateKey(certificate.privateKey)
        )
        tls.minimumTLSVersion = .tlsv12
        server = try .http2Upgrade(
            tlsChannelConfiguration: HummingbirdHTTP2.TLSChannelConfiguration(tlsConfiguration: tls)
        )
    } else {
        server = .http1()
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
