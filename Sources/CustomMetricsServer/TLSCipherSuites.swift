import NIOSSL

/// The TLS 1.2 cipher suites the server offers, named as kube-apiserver's `--tls-cipher-suites` names
/// them (Go's `crypto/tls` names). TLS 1.3 suites are fixed by the protocol and not configurable; their
/// names are accepted and ignored, as Go ignores them.
public enum TLSCipherSuites {
    /// ECDHE key exchange with AEAD ciphers only: forward secrecy, no CBC, no SHA-1 (the CIS Kubernetes
    /// benchmark's list for `--tls-cipher-suites`).
    public static let secureDefault: [NIOTLSCipher] = [
        .TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        .TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        .TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        .TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    ]

    /// Go's names for the TLS 1.2 suites this server can offer (BoringSSL's set); the insecure ones are
    /// here so a cluster that must can still name them.
    static let byName: [String: NIOTLSCipher] = [
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": .TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": .TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": .TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": .TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305": .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": .TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305": .TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": .TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": .TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
        "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": .TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
        "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": .TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
        "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": .TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
        "TLS_RSA_WITH_AES_128_GCM_SHA256": .TLS_RSA_WITH_AES_128_GCM_SHA256,
        "TLS_RSA_WITH_AES_256_GCM_SHA384": .TLS_RSA_WITH_AES_256_GCM_SHA384,
        "TLS_RSA_WITH_AES_128_CBC_SHA": .TLS_RSA_WITH_AES_128_CBC_SHA,
        "TLS_RSA_WITH_AES_256_CBC_SHA": .TLS_RSA_WITH_AES_256_CBC_SHA,
    ]

    /// TLS 1.3 suite names Go accepts in `--tls-cipher-suites`; not configurable, so ignored.
    static let tls13Names: Set<String> = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"]

    /// The suites `names` (kube-apiserver's spelling) name, in order.
    ///
    /// - Throws: `TLSCipherSuiteError` naming the first unknown suite, or when no TLS 1.2 suite is left.
    public static func parse(_ names: [String]) throws(TLSCipherSuiteError) -> [NIOTLSCipher] {
        var suites: [NIOTLSCipher] = []
        for name in names where !tls13Names.contains(name) {
            guard let suite = byName[name] else {
                throw TLSCipherSuiteError("--tls-cipher-suites: unknown or unsupported cipher suite \"\(name)\"; known: \(byName.keys.sorted().joined(separator: ", "))")
            }
            if !suites.contains(suite) { suites.append(suite) }
        }
        guard !suites.isEmpty else { throw TLSCipherSuiteError("--tls-cipher-suites names no TLS 1.2 cipher suite") }
        return suites
    }
}

/// A `--tls-cipher-suites` value that cannot be used.
public struct TLSCipherSuiteError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
