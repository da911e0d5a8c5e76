import ArgumentParser
import Logging

/// The server's command-line flags, as parsed; `AdapterConfiguration` validates them into typed values.
public struct ServerOptions: ParsableArguments, Sendable {
    // MARK: Serving

    @Option(name: .customLong("secure-port"), help: "The port to serve HTTPS on (HTTP/2 through ALPN, and HTTP/1.1).")
    public var securePort = 6443

    @Option(name: .customLong("bind-address"), help: "The address to listen on (0.0.0.0 for all IPv4, :: for all).")
    public var bindAddress = "0.0.0.0"

    @Option(name: .customLong("tls-cert-file"), help: "PEM serving certificate (chain). With --tls-private-key-file; otherwise a self-signed one is made in --cert-dir.")
    public var tlsCertFile: String?

    @Option(name: .customLong("tls-private-key-file"), help: "PEM private key of --tls-cert-file.")
    public var tlsPrivateKeyFile: String?

    @Option(name: .customLong("cert-dir"), help: "Where a self-signed certificate (apiserver.crt, apiserver.key, ca.crt) is made, or reused, when no --tls-cert-file is given.")
    public var certDir = "apiserver.local.config/certificates"

    @Option(name: .customLong("service-name"), help: "The Service name the certificate must be valid for (<service>.<namespace>.svc).")
    public var serviceName = "custom-metrics-adapter"

    @Option(name: .customLong("service-namespace"), help: "The namespace of that Service (default: $POD_NAMESPACE, else custom-metrics).")
    public var serviceNamespace: String?

    // MARK: Limits for strangers (docs/security.md)

    @Option(name: .customLong("tls-handshake-timeout"), help: "How long a connection may take from accept to a completed TLS handshake before it is closed.")
    public var tlsHandshakeTimeout = "5s"

    @Option(name: .customLong("max-connections"), help: "Connections open at once; beyond, the oldest still in its TLS handshake is closed, else the new one.")
    public var maxConnections = 256

    @Option(name: .customLong("max-pending-requests"), help: "Requests (HTTP/2 streams or HTTP/1.1 requests) being received at once across all connections; beyond, the oldest is closed.")
    public var maxPendingRequests = 256

    @Option(name: .customLong("request-receive-timeout"), help: "How long a request may take to arrive completely before its stream or connection is closed.")
    public var requestReceiveTimeout = "10s"

    @Option(name: .customLong("tls-cipher-suites"), help: "Comma-separated TLS 1.2 cipher suites with kube-apiserver's names; TLS 1.3 suites are fixed. Default: ECDHE with AES-GCM or ChaCha20-Poly1305 (the CIS list).")
    public var tlsCipherSuites: String?

    @Option(name: .customLong("authorization-cache-max-bytes"), help: "Bytes each of the token and decision caches may hold.")
    public var authorizationCacheMaxBytes = 4 << 20

    @Option(name: .customLong("prometheus-max-total-response-bytes"), help: "Bytes all Prometheus answers being read at once may hold together; beyond, 503.")
    public var prometheusMaxTotalResponseBytes = 32 << 20

    // MARK: Rules and Prometheus

    @OptionGroup public var rules: RuleOptions

    @OptionGroup public var prometheus: PrometheusOptions

    @Option(name: .customLong("metrics-cache-ttl"), help: "How long one Prometheus answer is reused by identical requests (e.g. 5s; 0s turns reuse off). A value older than this is never served. Concurrent identical requests always share one query.")
    public var metricsCacheTTL = "5s"

    @Option(name: .customLong("max-concurrent-prometheus-queries"), help: "How many different Prometheus queries may run at once; others wait up to --request-timeout minus --prometheus-query-timeout, then answer 429.")
    public var maxConcurrentPrometheusQueries = 8

    // MARK: Kubernetes

    @Option(name: .customLong("kubeconfig"), help: "kubeconfig for the pod list+watch; default: the in-cluster service account.")
    public var kubeconfig: String?

    @Option(name: .customLong("pods-file"), help: "Local runs without a cluster: take pods from this YAML file (re-read on change) instead of the Kubernetes API.")
    public var podsFile: String?

    // MARK: Authentication and authorization

    @Flag(name: .customLong("insecure-local-mode"), help: "DANGER: serve every caller without authentication or authorization. For local runs without a cluster only; logs a warning.")
    public var insecureLocalMode = false

    @Option(name: .customLong("requestheader-client-ca-file"), help: "PEM CA of the front proxy (kube-aggregator). Default: requestheader-client-ca-file from ConfigMap kube-system/extension-apiserver-authentication. Re-read periodically.")
    public var requestheaderClientCAFile: String?

    @Option(name: .customLong("requestheader-allowed-names"), help: "Comma-separated common names allowed for the front-proxy client certificate (empty: any name the CA signed). With the ConfigMap, its list is used.")
    public var requestheaderAllowedNames: String?

    @Option(name: .customLong("requestheader-username-headers"), help: "Comma-separated headers holding the user name.")
    public var requestheaderUsernameHeaders = "X-Remote-User"

    @Option(name: .customLong("requestheader-group-headers"), help: "Comma-separated headers holding the groups.")
    public var requestheaderGroupHeaders = "X-Remote-Group"

    @Option(name: .customLong("requestheader-extra-headers-prefix"), help: "Comma-separated prefixes of headers holding extra user attributes.")
    public var requestheaderExtraHeadersPrefix = "X-Remote-Extra-"

    @Option(name: .customLong("requestheader-refresh-interval"), help: "How often the front-proxy CA and names are re-read.")
    public var requestheaderRefreshInterval = "30s"

    @Option(name: .customLong("authentication-token-webhook-cache-ttl"), help: "How long TokenReview answers are cached.")
    public var tokenCacheTTL = "10s"

    @Option(name: .customLong("authorization-webhook-cache-authorized-ttl"), help: "How long allowed SubjectAccessReview answers are cached.")
    public var authorizedCacheTTL = "10s"

    @Option(name: .customLong("authorization-webhook-cache-unauthorized-ttl"), help: "How long denied SubjectAccessReview answers are cached.")
    public var unauthorizedCacheTTL = "10s"

    @Option(name: .customLong("authorization-always-allow-paths"), help: "Comma-separated paths served without authentication or authorization.")
    public var alwaysAllowPaths = "/healthz,/readyz,/livez"

    @Option(name: .customLong("request-timeout"), help: "How long a metrics request may take before it answers 503 (it should exceed --prometheus-query-timeout).")
    public var requestTimeout = "10s"

    @Option(name: .customLong("shutdown-timeout"), help: "After SIGTERM, how long in-flight requests may take before the process exits.")
    public var shutdownTimeout = "20s"

    @Option(name: .customLong("tls-reload-interval"), help: "How often --tls-cert-file and --tls-private-key-file are checked for changes.")
    public var tlsReloadInterval = "10s"

    // MARK: Logging

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    public var logLevelName = "info"

    @Option(name: .customLong("v"), help: "klog verbosity, accepted for compatibility: 4 or more turns on debug logging.")
    public var verbosity: Int?

    @Option(name: .customLong("logtostderr"), help: "Accepted for compatibility; logs always go to standard error.")
    public var logToStderr: Bool?

    public init() {}

    /// The log level `--log-level` or `--v` asks for.
    public var logLevel: Logger.Level {
        if let verbosity, verbosity >= 4 { return .debug }
        return Logger.Level(rawValue: logLevelName) ?? .info
    }
}
