import CustomMetricsAPI
import CustomMetricsServer
import Foundation
import MetricRules
import PrometheusAdapterConfig
import PrometheusClient
import Yams

/// The validated result of the flags: everything the runner needs, read once.
struct AdapterSettings {
    struct Auth {
        var insecureLocalMode: Bool
        var requestHeaderCAFile: String?
        var requestHeaderTemplate: RequestHeaderConfiguration
        var refreshInterval: Duration
        var tokenCacheTTL: Duration
        var authorizedCacheTTL: Duration
        var unauthorizedCacheTTL: Duration
        var alwaysAllowPaths: [String]
    }

    var server: ServerConfiguration
    var certificateSource: String
    var certificateFiles: (certificate: String, key: String)?
    var tlsReloadInterval: Duration
    var auth: Auth
    var shutdownTimeout: Duration
    var rules: RuleSet
    var rulesSource: String
    /// The `--config` file, re-read every `configReloadInterval`; nil for the built-in rule.
    var configFile: String?
    var configReloadInterval: Duration
    /// A prometheus-adapter configuration (`rules:`/`externalRules:`): its metrics come from series
    /// discovery, relisted every `relistInterval`; nil for the native format.
    var discoveryConfig: MetricsDiscoveryConfig?
    var relistInterval: Duration
    var prometheus: PrometheusClientConfiguration
    /// Pods from this file instead of the Kubernetes API (`--pods-file`).
    var podsFile: String?
    /// The kubeconfig for pods and reviews; nil means in-cluster.
    var kubeconfigPath: String?
    /// Query sharing, answer reuse and the Prometheus concurrency bound.
    var queryCoalescing: QueryCoalescer.Configuration

    /// - Parameter serving: false for tools (`explain`) that use the flags but serve nothing: no
    ///   certificate is loaded or generated.
    init(_ options: AdapterOptions, serving: Bool = true) throws {
        if let config = options.config {
            let text: String
            do {
                text = try String(contentsOfFile: config, encoding: .utf8)
            } catch {
                throw SettingsError("--config \(config): \(error.localizedDescription)")
            }
            do {
                switch try Self.parseConfig(text) {
                case .native(let native):
                    rules = native
                    discoveryConfig = nil
                case .prometheusAdapter(let adapterConfig):
                    rules = RuleSet(discovered: [])
                    discoveryConfig = adapterConfig
                }
            } catch {
                throw SettingsError("--config \(config): \(error)")
            }
            rulesSource = config
            configFile = config
        } else {
            rules = RuleSet.builtIn
            rulesSource = "built-in"
            configFile = nil
            discoveryConfig = nil
        }
        relistInterval = try Self.duration(options.metricsRelistInterval, flag: "--metrics-relist-interval")
        configReloadInterval = try Self.duration(options.configReloadInterval, flag: "--config-reload-interval")

        let certificate: ServingCertificate?
        switch (options.tlsCertFile, options.tlsPrivateKeyFile) {
        case _ where !serving:
            certificate = nil
            certificateFiles = nil
        case (let cert?, let key?):
            certificate = try ServingCertificate.load(certificateFile: cert, privateKeyFile: key)
            certificateFiles = (cert, key)
        case (nil, nil):
            certificateFiles = nil
            let namespace = options.serviceNamespace ?? ProcessInfo.processInfo.environment["POD_NAMESPACE"] ?? "custom-metrics"
            certificate = try ServingCertificate.selfSigned(
                in: options.certDir,
                hostnames: ServingCertificate.serviceHostnames(service: options.serviceName, namespace: namespace)
            )
        default:
            throw SettingsError("--tls-cert-file and --tls-private-key-file must be given together")
        }
        certificateSource = certificate?.source ?? "none"
        guard (0...65535).contains(options.securePort) else { throw SettingsError("--secure-port must be 0-65535") }
        let requestTimeout = try Self.duration(options.requestTimeout, flag: "--request-timeout")
        server = ServerConfiguration(
            bindAddress: options.bindAddress,
            port: options.securePort,
            certificates: certificate.map { ServingCertificateStore($0) },
            limits: RequestLimits(requestTimeout: requestTimeout)
        )
        tlsReloadInterval = try Self.duration(options.tlsReloadInterval, flag: "--tls-reload-interval")
        shutdownTimeout = try Self.duration(options.shutdownTimeout, flag: "--shutdown-timeout")

        func list(_ text: String) -> [String] {
            text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        auth = Auth(
            insecureLocalMode: options.insecureLocalMode,
            requestHeaderCAFile: options.requestheaderClientCAFile,
            requestHeaderTemplate: RequestHeaderConfiguration(
                clientCAPEM: "",
                allowedNames: list(options.requestheaderAllowedNames ?? ""),
                usernameHeaders: list(options.requestheaderUsernameHeaders),
                groupHeaders: list(options.requestheaderGroupHeaders),
                extraHeaderPrefixes: list(options.requestheaderExtraHeadersPrefix)
            ),
            refreshInterval: try Self.duration(options.requestheaderRefreshInterval, flag: "--requestheader-refresh-interval"),
            tokenCacheTTL: try Self.duration(options.tokenCacheTTL, flag: "--authentication-token-webhook-cache-ttl"),
            authorizedCacheTTL: try Self.duration(options.authorizedCacheTTL, flag: "--authorization-webhook-cache-authorized-ttl"),
            unauthorizedCacheTTL: try Self.duration(options.unauthorizedCacheTTL, flag: "--authorization-webhook-cache-unauthorized-ttl"),
            alwaysAllowPaths: list(options.alwaysAllowPaths)
        )

        guard let timeout = Self.duration(options.prometheusQueryTimeout) else {
            throw SettingsError("--prometheus-query-timeout \"\(options.prometheusQueryTimeout)\" is not a duration such as 5s or 1500ms")
        }
        var headers: [(name: String, value: String)] = []
        for header in options.prometheusHeaders {
            guard let equals = header.firstIndex(of: "="), equals != header.startIndex else {
                throw SettingsError("--prometheus-header \"\(header.prefix(40))\" must be Name=Value")
            }
            headers.append((String(header[..<equals]), String(header[header.index(after: equals)...])))
        }
        if (options.prometheusClientTLSCertFile == nil) != (options.prometheusClientTLSKeyFile == nil) {
            throw SettingsError("--prometheus-client-tls-cert-file and --prometheus-client-tls-key-file must be given together")
        }
        let cacheTTL: Duration
        if options.metricsCacheTTL == "0" || options.metricsCacheTTL == "0s" || options.metricsCacheTTL == "0ms" {
            cacheTTL = .zero
        } else {
            cacheTTL = try Self.duration(options.metricsCacheTTL, flag: "--metrics-cache-ttl")
        }
        // Longer than one scrape interval or two would serve a value the HPA believes current long after
        // Prometheus has a newer one.
        guard cacheTTL <= .seconds(60) else {
            throw SettingsError("--metrics-cache-ttl \"\(options.metricsCacheTTL)\" is longer than 60s; keep it at or below the scrape interval")
        }
        guard options.maxConcurrentPrometheusQueries >= 1 else {
            throw SettingsError("--max-concurrent-prometheus-queries must be at least 1")
        }
        guard requestTimeout > timeout else {
            throw SettingsError(
                "--request-timeout \"\(options.requestTimeout)\" must be longer than --prometheus-query-timeout \"\(options.prometheusQueryTimeout)\""
            )
        }
        // A query that waits for a slot must still be able to finish within the request's time: past
        // that wait, the client learns it was turned away (429) rather than that time ran out (503).
        queryCoalescing = QueryCoalescer.Configuration(
            ttl: cacheTTL,
            maximumConcurrentQueries: options.maxConcurrentPrometheusQueries,
            maximumWait: max(requestTimeout - timeout, .milliseconds(100))
        )
        prometheus = PrometheusClientConfiguration(
            url: options.prometheusURL,
            queryTimeout: timeout,
            bearerTokenFile: options.prometheusTokenFile,
            basicAuthUsername: options.prometheusUsername,
            basicAuthPasswordFile: options.prometheusPasswordFile,
            caFile: options.prometheusCAFile,
            clientCertificateFile: options.prometheusClientTLSCertFile,
            clientKeyFile: options.prometheusClientTLSKeyFile,
            insecureSkipTLSVerify: options.prometheusInsecureSkipTLSVerify,
            headers: headers
        )

        kubeconfigPath = options.kubeconfig
        podsFile = options.podsFile
        if podsFile != nil, !options.insecureLocalMode, options.kubeconfig == nil {
            throw SettingsError(
                "--pods-file has no Kubernetes API to authenticate callers with: add --insecure-local-mode (local runs only)"
            )
        }
    }

    enum ConfigFile {
        case native(RuleSet)
        case prometheusAdapter(MetricsDiscoveryConfig)
    }

    /// The native format (`metrics:`) or prometheus-adapter's (`rules:`, `externalRules:`), told apart by
    /// the top-level keys; each parser then reports its own errors.
    static func parseConfig(_ text: String) throws -> ConfigFile {
        let keys = Set(((try? Yams.compose(yaml: text))??.mapping?.keys.compactMap(\.string)) ?? [])
        let adapterKeys: Set<String> = ["rules", "externalRules", "resourceRules"]
        if keys.contains("metrics"), !keys.isDisjoint(with: adapterKeys) {
            throw SettingsError("the file mixes `metrics:` (this adapter's format) with prometheus-adapter's `rules:`/`externalRules:`; use one")
        }
        if !keys.isDisjoint(with: adapterKeys) {
            return .prometheusAdapter(try MetricsDiscoveryConfig.parse(yaml: text))
        }
        return .native(try RuleConfig.parse(yaml: text))
    }

    static func duration(_ text: String, flag: String) throws -> Duration {
        guard let value = duration(text) else { throw SettingsError("\(flag) \"\(text)\" is not a duration such as 10s, 1500ms or 1m") }
        return value
    }

    /// `5s`, `1500ms`, `1m`.
    static func duration(_ text: String) -> Duration? {
        if text.hasSuffix("ms"), let ms = Int64(text.dropLast(2)), ms > 0 { return .milliseconds(ms) }
        if let seconds = PrometheusDuration.seconds(text) { return .seconds(seconds) }
        return nil
    }
}

struct SettingsError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
