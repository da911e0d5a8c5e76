import ArgumentParser
import Logging

/// Every command-line flag, as parsed; `AdapterSettings` validates them into typed values.
struct AdapterOptions: ParsableArguments {
    // MARK: Serving

    @Option(name: .customLong("secure-port"), help: "The port to serve HTTPS on (HTTP/2 through ALPN, and HTTP/1.1).")
    var securePort = 6443

    @Option(name: .customLong("bind-address"), help: "The address to listen on (0.0.0.0 for all IPv4, :: for all).")
    var bindAddress = "0.0.0.0"

    @Option(name: .customLong("tls-cert-file"), help: "PEM serving certificate (chain). With --tls-private-key-file; otherwise a self-signed one is made in --cert-dir.")
    var tlsCertFile: String?

    @Option(name: .customLong("tls-private-key-file"), help: "PEM private key of --tls-cert-file.")
    var tlsPrivateKeyFile: String?

    @Option(name: .customLong("cert-dir"), help: "Where a self-signed certificate (apiserver.crt, apiserver.key, ca.crt) is made, or reused, when no --tls-cert-file is given.")
    var certDir = "apiserver.local.config/certificates"

    @Option(name: .customLong("service-name"), help: "The Service name the certificate must be valid for (<service>.<namespace>.svc).")
    var serviceName = "custom-metrics-adapter"

    @Option(name: .customLong("service-namespace"), help: "The namespace of that Service (default: $POD_NAMESPACE, else custom-metrics).")
    var serviceNamespace: String?

    // MARK: Rules

    @Option(name: .customLong("config"), help: "YAML rules file (`metrics:` list). Without it the built-in rule serves triton:queue_compute:ratio for pods.")
    var config: String?

    @Option(name: .customLong("config-reload-interval"), help: "How often --config is checked for changes; a valid new file replaces the rules without a restart, an invalid one is logged and ignored.")
    var configReloadInterval = "10s"

    @Option(name: .customLong("metrics-relist-interval"), help: "With a prometheus-adapter config (rules:/externalRules:): how often series are listed to discover metrics, and how far back. Unused by native rules.")
    var metricsRelistInterval = "10m"

    // MARK: Prometheus

    @Option(name: .customLong("prometheus-url"), help: "Base URL of the Prometheus-compatible query API.")
    var prometheusURL = "http://localhost:9090"

    @Option(name: .customLong("prometheus-query-timeout"), help: "How long one query may take (e.g. 5s, 1500ms); a slower one answers 503.")
    var prometheusQueryTimeout = "5s"

    @Option(name: .customLong("metrics-cache-ttl"), help: "How long one Prometheus answer is reused by identical requests (e.g. 5s; 0s turns reuse off). A value older than this is never served. Concurrent identical requests always share one query.")
    var metricsCacheTTL = "5s"

    @Option(name: .customLong("max-concurrent-prometheus-queries"), help: "How many different Prometheus queries may run at once; others wait up to --request-timeout, then answer 429.")
    var maxConcurrentPrometheusQueries = 8

    @Option(name: .customLong("prometheus-token-file"), help: "File with a bearer token for Prometheus, re-read on every query.")
    var prometheusTokenFile: String?

    @Option(name: .customLong("prometheus-username"), help: "Basic-auth user for Prometheus (with --prometheus-password-file).")
    var prometheusUsername: String?

    @Option(name: .customLong("prometheus-password-file"), help: "File with the basic-auth password for Prometheus.")
    var prometheusPasswordFile: String?

    @Option(name: .customLong("prometheus-ca-file"), help: "PEM CA bundle that signs Prometheus' certificate.")
    var prometheusCAFile: String?

    @Option(name: .customLong("prometheus-client-tls-cert-file"), help: "Client certificate (PEM) for mutual TLS to Prometheus.")
    var prometheusClientTLSCertFile: String?

    @Option(name: .customLong("prometheus-client-tls-key-file"), help: "Client key (PEM) for mutual TLS to Prometheus.")
    var prometheusClientTLSKeyFile: String?

    @Flag(name: .customLong("prometheus-insecure-skip-tls-verify"), help: "Do not verify Prometheus' certificate (local experiments only).")
    var prometheusInsecureSkipTLSVerify = false

    @Option(name: .customLong("prometheus-header"), help: "Extra header for every Prometheus query, as Name=Value (repeatable), e.g. X-Scope-OrgID=tenant-a.")
    var prometheusHeaders: [String] = []

    // MARK: Kubernetes

    @Option(name: .customLong("kubeconfig"), help: "kubeconfig for the pod list+watch; default: the in-cluster service account.")
    var kubeconfig: String?

    @Option(name: .customLong("pods-file"), help: "Local runs without a cluster: take pods from this YAML file (re-read on change) instead of the Kubernetes API.")
    var podsFile: String?

    // MARK: Authentication and authorization

    @Flag(name: .customLong("insecure-local-mode"), help: "DANGER: serve every caller without authentication or authorization. For local runs without a cluster only; logs a warning.")
    var insecureLocalMode = false

    @Option(name: .customLong("requestheader-client-ca-file"), help: "PEM CA of the front proxy (kube-aggregator). Default: requestheader-client-ca-file from ConfigMap kube-system/extension-apiserver-authentication. Re-read periodically.")
    var requestheaderClientCAFile: String?

    @Option(name: .customLong("requestheader-allowed-names"), help: "Comma-separated common names allowed for the front-proxy client certificate (empty: any name the CA signed). With the ConfigMap, its list is used.")
    var requestheaderAllowedNames: String?

    @Option(name: .customLong("requestheader-username-headers"), help: "Comma-separated headers holding the user name.")
    var requestheaderUsernameHeaders = "X-Remote-User"

    @Option(name: .customLong("requestheader-group-headers"), help: "Comma-separated headers holding the groups.")
    var requestheaderGroupHeaders = "X-Remote-Group"

    @Option(name: .customLong("requestheader-extra-headers-prefix"), help: "Comma-separated prefixes of headers holding extra user attributes.")
    var requestheaderExtraHeadersPrefix = "X-Remote-Extra-"

    @Option(name: .customLong("requestheader-refresh-interval"), help: "How often the front-proxy CA and names are re-read.")
    var requestheaderRefreshInterval = "30s"

    @Option(name: .customLong("authentication-token-webhook-cache-ttl"), help: "How long TokenReview answers are cached.")
    var tokenCacheTTL = "10s"

    @Option(name: .customLong("authorization-webhook-cache-authorized-ttl"), help: "How long allowed SubjectAccessReview answers are cached.")
    var authorizedCacheTTL = "10s"

    @Option(name: .customLong("authorization-webhook-cache-unauthorized-ttl"), help: "How long denied SubjectAccessReview answers are cached.")
    var unauthorizedCacheTTL = "10s"

    @Option(name: .customLong("authorization-always-allow-paths"), help: "Comma-separated paths served without authentication or authorization.")
    var alwaysAllowPaths = "/healthz,/readyz,/livez"

    @Option(name: .customLong("request-timeout"), help: "How long a metrics request may take before it answers 503 (it should exceed --prometheus-query-timeout).")
    var requestTimeout = "10s"

    @Option(name: .customLong("shutdown-timeout"), help: "After SIGTERM, how long in-flight requests may take before the process exits.")
    var shutdownTimeout = "20s"

    @Option(name: .customLong("tls-reload-interval"), help: "How often --tls-cert-file and --tls-private-key-file are checked for changes.")
    var tlsReloadInterval = "10s"

    // MARK: Logging

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevelName = "info"

    @Option(name: .customLong("v"), help: "klog verbosity, accepted for compatibility: 4 or more turns on debug logging.")
    var verbosity: Int?

    @Option(name: .customLong("logtostderr"), help: "Accepted for compatibility; logs always go to standard error.")
    var logToStderr: Bool?

    var logLevel: Logger.Level {
        if let verbosity, verbosity >= 4 { return .debug }
        return Logger.Level(rawValue: logLevelName) ?? .info
    }
}
