import NIOSSL

/// A description of a `KubeConfig` that names where credentials come from but never holds them.
///
/// Services holding a configuration are printed by swift-service-lifecycle at debug level (`--v=4`), and
/// Swift's default description of a struct prints every stored property, the inline bearer token
/// included. Conforming here replaces that everywhere the value is printed, dumped or reflected,
/// including as a field of another type's default description.
extension KubeConfig: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// What stands in for a secret that is set.
    static let redacted = "<redacted>"

    public var description: String {
        let fields = customMirror.children.map { "\($0.label ?? ""): \($0.value)" }
        return "KubeConfig(\(fields.joined(separator: ", ")))"
    }

    public var debugDescription: String { description }

    private static func count(_ certificates: [NIOSSLCertificate]?) -> String? {
        certificates.map { "\($0.count) certificate(s)" }
    }

    /// Server, TLS settings and token *file* path as they are; the inline token and the client key only
    /// as set or not.
    public var customMirror: Mirror {
        let children: KeyValuePairs<String, Any> = [
            "server": server,
            "certificateAuthority": Self.count(certificateAuthority) ?? "system roots",
            "insecureSkipTLSVerify": insecureSkipTLSVerify,
            "token": token == nil ? "none" : Self.redacted,
            "tokenFile": tokenFile ?? "none",
            "clientCertificate": Self.count(clientCertificate) ?? "none",
            "clientKey": clientKey == nil ? "none" : Self.redacted,
        ]
        return Mirror(self, children: children, displayStyle: .struct)
    }
}
