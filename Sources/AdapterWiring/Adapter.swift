import Hummingbird
import KubernetesClient
import Logging
import PrometheusAdapterConfig
import PrometheusClient
import ServiceLifecycle

/// A wired adapter, not yet running: the HTTPS application and the background work it needs, and the
/// clients to close once they have stopped.
public struct Adapter: Sendable {
    /// The HTTPS server.
    public let application: any ApplicationProtocol
    /// Pod cache, front-proxy CA refresher, certificate reloader, rule relisting and reloading.
    public let backgroundServices: [any Service]
    /// Where the rules in force come from.
    public let rules: RuleSource
    let prometheus: PrometheusHTTPClient
    let kubernetes: KubernetesAPIClient?

    /// The application first, then the background services: what a `ServiceGroup` runs.
    public var services: [any Service] { [application] + backgroundServices }

    /// Closes the HTTP clients; call after the services have stopped.
    public func shutdown() async {
        try? await prometheus.shutdown()
        try? await kubernetes?.shutdown()
    }

    /// Runs everything until SIGTERM or SIGINT: the server stops accepting and drains in-flight requests;
    /// past `shutdownTimeout` the remaining work is cancelled. The clients are closed on the way out.
    public func run(shutdownTimeout: Duration, logger: Logger) async throws {
        var configuration = ServiceGroupConfiguration(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        configuration.maximumGracefulShutdownDuration = shutdownTimeout
        let outcome: Result<Void, any Error>
        do {
            try await ServiceGroup(configuration: configuration).run()
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        await shutdown()
        try outcome.get()
    }
}
