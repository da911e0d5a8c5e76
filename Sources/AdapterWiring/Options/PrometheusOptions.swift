import ArgumentParser
import PrometheusClient

/// How to reach Prometheus: one set of flags, one default and one validation, shared by the server,
/// `explain`, `replay` and `hpa-controller`'s siblings.
public struct PrometheusOptions: ParsableArguments, Sendable {
    @Option(name: .customLong("prometheus-url"), help: "Base URL of the Prometheus-compatible query API.")
    public var url = "http://localhost:9090"

    @Option(name: .customLong("prometheus-query-timeout"), help: "How long one query may take (e.g. 5s, 1500ms); a slower one answers 503.")
    public var queryTimeout = "5s"

    @Option(name: .customLong("prometheus-token-file"), help: "File with a bearer token for Prometheus, re-read on every query.")
    public var tokenFile: String?

    @Option(name: .customLong("prometheus-username"), help: "Basic-auth user for Prometheus (with --prometheus-password-file).")
    public var username: String?

    @Option(name: .customLong("prometheus-password-file"), help: "File with the basic-auth password for Prometheus.")
    public var passwordFile: String?

    @Option(name: .customLong("prometheus-ca-file"), help: "PEM CA bundle that signs Prometheus' certificate.")
    public var caFile: String?

    @Option(name: .customLong("prometheus-client-tls-cert-file"), help: "Client certificate (PEM) for mutual TLS to Prometheus.")
    public var clientCertFile: String?

    @Option(name: .customLong("prometheus-client-tls-key-file"), help: "Client key (PEM) for mutual TLS to Prometheus.")
    public var clientKeyFile: String?

    @Flag(name: .customLong("prometheus-insecure-skip-tls-verify"), help: "Do not verify Prometheus' certificate (local experiments only).")
    public var insecureSkipTLSVerify = false

    @Option(name: .customLong("prometheus-header"), help: "Extra header for every Prometheus query, as Name=Value (repeatable), e.g. X-Scope-OrgID=tenant-a.")
    public var headers: [String] = []

    public init() {}

    /// The validated client configuration.
    ///
    /// - Throws: `SettingsError` naming the flag that is wrong.
    public func clientConfiguration() throws(SettingsError) -> PrometheusClientConfiguration {
        guard let timeout = DurationFlag.parse(queryTimeout) else {
            throw SettingsError("--prometheus-query-timeout \"\(queryTimeout)\" is not a duration such as 5s or 1500ms")
        }
        var pairs: [(name: String, value: String)] = []
        for header in headers {
            guard let equals = header.firstIndex(of: "="), equals != header.startIndex else {
                throw SettingsError("--prometheus-header \"\(header.prefix(40))\" must be Name=Value")
            }
            pairs.append((String(header[..<equals]), String(header[header.index(after: equals)...])))
        }
        if (clientCertFile == nil) != (clientKeyFile == nil) {
            throw SettingsError("--prometheus-client-tls-cert-file and --prometheus-client-tls-key-file must be given together")
        }
        if (username == nil) != (passwordFile == nil) {
            throw SettingsError("--prometheus-username and --prometheus-password-file must be given together")
        }
        return PrometheusClientConfiguration(
            url: url,
            queryTimeout: timeout,
            bearerTokenFile: tokenFile,
            basicAuthUsername: username,
            basicAuthPasswordFile: passwordFile,
            caFile: caFile,
            clientCertificateFile: clientCertFile,
            clientKeyFile: clientKeyFile,
            insecureSkipTLSVerify: insecureSkipTLSVerify,
            headers: pairs
        )
    }
}
