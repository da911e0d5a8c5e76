/// A description of a `PrometheusClientConfiguration` without header values.
///
/// Extra headers may carry credentials (an `Authorization` or a tenant key); tokens and passwords are
/// only ever named by file. Swift's default description prints every stored property, and services
/// holding a configuration are printed at debug level, so the values are replaced by `<redacted>`.
extension PrometheusClientConfiguration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        let fields = customMirror.children.map { "\($0.label ?? ""): \($0.value)" }
        return "PrometheusClientConfiguration(\(fields.joined(separator: ", ")))"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror {
        let children: KeyValuePairs<String, Any> = [
            "url": url,
            "queryTimeout": queryTimeout,
            "bearerTokenFile": bearerTokenFile ?? "none",
            "basicAuthUsername": basicAuthUsername ?? "none",
            "basicAuthPasswordFile": basicAuthPasswordFile ?? "none",
            "caFile": caFile ?? "none",
            "clientCertificateFile": clientCertificateFile ?? "none",
            "clientKeyFile": clientKeyFile ?? "none",
            "insecureSkipTLSVerify": insecureSkipTLSVerify,
            "headers": headers.map { "\($0.name): <redacted>" },
            "maxResponseBytes": maxResponseBytes,
            "maxTotalResponseBytes": maxTotalResponseBytes,
        ]
        return Mirror(self, children: children, displayStyle: .struct)
    }
}
