/// How to reach a Prometheus-compatible query API, read once from flags.
public struct PrometheusClientConfiguration: Sendable {
    /// The base URL; `api/v1/query` is appended (`http://prometheus.monitoring.svc:9090`, or a prefix
    /// such as `https://mimir/prometheus`).
    public var url: String
    /// How long a query may take, end to end; also sent to Prometheus as its `timeout` parameter.
    public var queryTimeout: Duration
    /// A file holding a bearer token, re-read on every query so a rotated token is picked up.
    public var bearerTokenFile: String?
    /// Basic-auth user name, with `basicAuthPasswordFile`.
    public var basicAuthUsername: String?
    public var basicAuthPasswordFile: String?
    /// PEM bundle of the CA(s) that sign Prometheus' certificate; the system roots when nil.
    public var caFile: String?
    /// Client certificate and key (PEM) for mutual TLS.
    public var clientCertificateFile: String?
    public var clientKeyFile: String?
    /// Skips verification of Prometheus' certificate. Only for local experiments.
    public var insecureSkipTLSVerify: Bool
    /// Extra headers sent with every query (`X-Scope-OrgID` for Mimir, Cortex and Thanos tenants).
    public var headers: [(name: String, value: String)]
    /// The largest response accepted, in bytes.
    public var maxResponseBytes: Int
    /// The bytes all responses being read at once may hold together (`--prometheus-max-total-response-bytes`):
    /// concurrent answers beyond it fail as overloaded (503) instead of taking the process past its
    /// memory limit. A single response is also bounded by it.
    public var maxTotalResponseBytes: Int

    public init(
        url: String,
        queryTimeout: Duration = .seconds(5),
        bearerTokenFile: String? = nil,
        basicAuthUsername: String? = nil,
        basicAuthPasswordFile: String? = nil,
        caFile: String? = nil,
        clientCertificateFile: String? = nil,
        clientKeyFile: String? = nil,
        insecureSkipTLSVerify: Bool = false,
        headers: [(name: String, value: String)] = [],
        maxResponseBytes: Int = 64 << 20,
        maxTotalResponseBytes: Int = 32 << 20
    ) {
        self.url = url
        self.queryTimeout = queryTimeout
        self.bearerTokenFile = bearerTokenFile
        self.basicAuthUsername = basicAuthUsername
        self.basicAuthPasswordFile = basicAuthPasswordFile
        self.caFile = caFile
        self.clientCertificateFile = clientCertificateFile
        self.clientKeyFile = clientKeyFile
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.headers = headers
        self.maxResponseBytes = maxResponseBytes
        self.maxTotalResponseBytes = maxTotalResponseBytes
    }
}
