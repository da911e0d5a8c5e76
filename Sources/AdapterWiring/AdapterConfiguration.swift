import CustomMetricsAPI
import CustomMetricsServer
import Foundation
import MetricRules
import NIOSSL
import PrometheusClient

/// The validated result of the server's flags: everything `buildAdapter` needs, read once.
public struct AdapterConfiguration: Sendable {
    /// Who may call, and how they are recognised.
    public struct Auth: Sendable {
        public var insecureLocalMode: Bool
        public var requestHeaderCAFile: String?
        public var requestHeaderTemplate: RequestHeaderConfiguration
        public var refreshInterval: Duration
        public var tokenCacheTTL: Duration
        public var authorizedCacheTTL: Duration
        public var unauthorizedCacheTTL: Duration
        public var alwaysAllowPaths: [String]
        public var cacheMaximumBytes: Int
    }

    public var server: ServerConfiguration
    public var certificateSource: String
    public var certificateFiles: (certificate: String, key: String)?
    public var tlsReloadInterval: Duration
    public var auth: Auth
    public var shutdownTimeout: Duration
    /// The `--config` file, read and validated; nil for the built-in rule. `buildAdapter` serves it
    /// (prometheus-adapter's format discovers its metrics from Prometheus).
    public var rules: RuleFile?
    public var prometheus: PrometheusClientConfiguration
    /// Pods from this file instead of the Kubernetes API (`--pods-file`).
    public var podsFile: String?
    /// The kubeconfig for pods and reviews; nil means in-cluster.
    public var kubeconfigPath: String?
    /// Query sharing, answer reuse and the Prometheus concurrency bound.
    public var queryCoalescing: QueryCoalescer.Configuration

    /// - Parameter serving: false for tools (`explain`) that use the flags but serve nothing: no
    ///   certificate is loaded or generated.
    public init(_ options: ServerOptions, serving: Bool = true) throws {
        // The rules file first: a mistake in it is the likeliest, and the message names rule and field.
        rules = try options.rules.load()
        let certificate: ServingCertificate?
        (certificate, certificateFiles) = try Self.certificate(options, serving: serving)
        certificateSource = certificate?.source ?? "none"
        guard (0...65535).contains(options.securePort) else { throw SettingsError("--secure-port must be 0-65535") }
        let requestTimeout = try DurationFlag.parse(options.requestTimeout, flag: "--request-timeout")
        server = ServerConfiguration(
            bindAddress: options.bindAddress,
            port: options.securePort,
            certificates: certificate.map { ServingCertificateStore($0) },
            limits: RequestLimits(requestTimeout: requestTimeout),
            connections: try Self.connectionLimits(options),
            cipherSuites: try Self.cipherSuites(options)
        )
        tlsReloadInterval = try DurationFlag.parse(options.tlsReloadInterval, flag: "--tls-reload-interval")
        shutdownTimeout = try DurationFlag.parse(options.shutdownTimeout, flag: "--shutdown-timeout")
        auth = try Self.auth(options)
        prometheus = try options.prometheus.clientConfiguration()
        guard options.prometheusMaxTotalResponseBytes >= 1 << 20 else {
            throw SettingsError("--prometheus-max-total-response-bytes must be at least 1048576 (1 MiB)")
        }
        // One answer can never be larger than all answers together.
        prometheus.maxTotalResponseBytes = options.prometheusMaxTotalResponseBytes
        prometheus.maxResponseBytes = min(prometheus.maxResponseBytes, options.prometheusMaxTotalResponseBytes)
        queryCoalescing = try Self.queryCoalescing(options, requestTimeout: requestTimeout, queryTimeout: prometheus.queryTimeout)
        kubeconfigPath = options.kubeconfig
        podsFile = options.podsFile
        if podsFile != nil, !options.insecureLocalMode, options.kubeconfig == nil {
            throw SettingsError(
                "--pods-file has no Kubernetes API to authenticate callers with: add --insecure-local-mode (local runs only)"
            )
        }
    }

    /// The serving certificate from files, or self-signed in `--cert-dir`; none for tools that serve nothing.
    private static func certificate(
        _ options: ServerOptions, serving: Bool
    ) throws -> (ServingCertificate?, (certificate: String, key: String)?) {
        switch (options.tlsCertFile, options.tlsPrivateKeyFile) {
        case _ where !serving:
            return (nil, nil)
        case (let cert?, let key?):
            return (try ServingCertificate.load(certificateFile: cert, privateKeyFile: key), (cert, key))
        case (nil, nil):
            let namespace = options.serviceNamespace ?? ProcessInfo.processInfo.environment["POD_NAMESPACE"] ?? "custom-metrics"
            let certificate = try ServingCertificate.selfSigned(
                in: options.certDir,
                hostnames: ServingCertificate.serviceHostnames(service: options.serviceName, namespace: namespace)
            )
            return (certificate, nil)
        default:
            throw SettingsError("--tls-cert-file and --tls-private-key-file must be given together")
        }
    }

    private static func connectionLimits(_ options: ServerOptions) throws(SettingsError) -> ConnectionLimits {
        guard options.maxConnections >= 1, options.maxPendingRequests >= 1 else {
            throw SettingsError("--max-connections and --max-pending-requests must be at least 1")
        }
        return ConnectionLimits(
            handshakeTimeout: try DurationFlag.parse(options.tlsHandshakeTimeout, flag: "--tls-handshake-timeout"),
            maximumConnections: options.maxConnections,
            maximumPendingRequests: options.maxPendingRequests,
            requestReceiveTimeout: try DurationFlag.parse(options.requestReceiveTimeout, flag: "--request-receive-timeout")
        )
    }

    private static func cipherSuites(_ options: ServerOptions) throws(SettingsError) -> [NIOTLSCipher] {
        guard let list = options.tlsCipherSuites else { return TLSCipherSuites.secureDefault }
        do {
            return try TLSCipherSuites.parse(list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        } catch {
            throw SettingsError(error.description)
        }
    }

    private static func auth(_ options: ServerOptions) throws(SettingsError) -> Auth {
        func list(_ text: String) -> [String] {
            text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        return Auth(
            insecureLocalMode: options.insecureLocalMode,
            requestHeaderCAFile: options.requestheaderClientCAFile,
            requestHeaderTemplate: RequestHeaderConfiguration(
                clientCAPEM: "",
                allowedNames: list(options.requestheaderAllowedNames ?? ""),
                usernameHeaders: list(options.requestheaderUsernameHeaders),
                groupHeaders: list(options.requestheaderGroupHeaders),
                extraHeaderPrefixes: list(options.requestheaderExtraHeadersPrefix)
            ),
            refreshInterval: try DurationFlag.parse(options.requestheaderRefreshInterval, flag: "--requestheader-refresh-interval"),
            tokenCacheTTL: try DurationFlag.parse(options.tokenCacheTTL, flag: "--authentication-token-webhook-cache-ttl"),
            authorizedCacheTTL: try DurationFlag.parse(options.authorizedCacheTTL, flag: "--authorization-webhook-cache-authorized-ttl"),
            unauthorizedCacheTTL: try DurationFlag.parse(options.unauthorizedCacheTTL, flag: "--authorization-webhook-cache-unauthorized-ttl"),
            alwaysAllowPaths: list(options.alwaysAllowPaths),
            cacheMaximumBytes: options.authorizationCacheMaxBytes
        )
    }

    private static func queryCoalescing(
        _ options: ServerOptions, requestTimeout: Duration, queryTimeout: Duration
    ) throws(SettingsError) -> QueryCoalescer.Configuration {
        let cacheTTL: Duration
        if options.metricsCacheTTL == "0" || options.metricsCacheTTL == "0s" || options.metricsCacheTTL == "0ms" {
            cacheTTL = .zero
        } else {
            cacheTTL = try DurationFlag.parse(options.metricsCacheTTL, flag: "--metrics-cache-ttl")
        }
        // Longer than one scrape interval or two would serve a value the HPA believes current long after
        // Prometheus has a newer one.
        guard cacheTTL <= .seconds(60) else {
            throw SettingsError("--metrics-cache-ttl \"\(options.metricsCacheTTL)\" is longer than 60s; keep it at or below the scrape interval")
        }
        guard options.maxConcurrentPrometheusQueries >= 1 else {
            throw SettingsError("--max-concurrent-prometheus-queries must be at least 1")
        }
        guard requestTimeout > queryTimeout else {
            throw SettingsError(
                "--request-timeout \"\(options.requestTimeout)\" must be longer than --prometheus-query-timeout \"\(options.prometheus.queryTimeout)\""
            )
        }
        // A query that waits for a slot must still be able to finish within the request's time: past
        // that wait, the client learns it was turned away (429) rather than that time ran out (503).
        return QueryCoalescer.Configuration(
            ttl: cacheTTL,
            maximumConcurrentQueries: options.maxConcurrentPrometheusQueries,
            maximumWait: max(requestTimeout - queryTimeout, .milliseconds(100))
        )
    }
}
