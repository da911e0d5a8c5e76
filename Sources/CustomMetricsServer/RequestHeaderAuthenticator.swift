import CustomMetricsAPI
import Crypto
import HTTPTypes
import NIOSSL
import Synchronization
import SwiftASN1
import X509

/// Authenticates the kube-aggregator: a client certificate that verifies against the front-proxy CA
/// (through intermediates the client sent), whose common name is in the allowed names (any, when the
/// list is empty). Only then are the user, group and extra headers believed; from anyone else they are
/// ignored.
///
/// The rules are kube-apiserver's request-header authenticator's: the common name is the *last* CN of
/// the subject (Go's `pkix.Name.CommonName`), empty group values are dropped, and a leaf may chain
/// through intermediates to the CA.
///
/// Memory is bounded whatever strangers send: only certificates that verified are remembered, by the
/// SHA-256 of their DER (32 bytes), with the intermediates their chain used, at most
/// `verifiedCapacity` of them. A certificate that does not verify costs a verification per request and
/// nothing afterwards.
public final class RequestHeaderAuthenticator: Sendable {
    /// How many verified front-proxy certificates are remembered (a cluster has one or two).
    public static let verifiedCapacity = 64
    /// The most certificates of a presented chain that are looked at (leaf and intermediates).
    public static let maximumChainLength = 8

    private struct Verified {
        var generation: Int
        var intermediates: [Certificate]
    }

    private struct State {
        var configuration: RequestHeaderConfiguration?
        var roots: [Certificate] = []
        /// Bumped on every change of configuration: what verified under an older one is checked again.
        var generation = 0
        var verified: [SHA256Digest: Verified] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Installs a (new) configuration: a CA rotation or a new allowed-names list takes effect for the next
    /// request. Installing the configuration already in place changes nothing.
    public func update(_ configuration: RequestHeaderConfiguration) throws(RequestHeaderError) {
        if state.withLock({ $0.configuration == configuration }) { return }
        let roots: [Certificate]
        do {
            roots = try PEMDocument.parseMultiple(pemString: configuration.clientCAPEM).map { try Certificate(pemDocument: $0) }
        } catch {
            throw RequestHeaderError("the front-proxy CA bundle is not valid PEM certificates: \(error)")
        }
        guard !roots.isEmpty else { throw RequestHeaderError("the front-proxy CA bundle holds no certificate") }
        state.withLock { state in
            state = State(configuration: configuration, roots: roots, generation: state.generation + 1, verified: [:])
        }
    }

    /// Whether a configuration is installed.
    public var isConfigured: Bool { state.withLock { $0.configuration != nil } }

    /// How many verified certificates are remembered (for tests and the threat model's bound).
    public var verifiedCount: Int { state.withLock { $0.verified.count } }

    /// Checks the chain a client presented in its TLS handshake (leaf first), so that a leaf issued by an
    /// intermediate is trusted on later requests of the connection. Called from the TLS verification
    /// callback; never fails the handshake (a client certificate is optional here).
    public func admit(presentedChain: [NIOSSLCertificate]) async {
        guard let leafCertificate = presentedChain.first, let leafDER = try? leafCertificate.toDERBytes() else { return }
        let intermediates = presentedChain.dropFirst().prefix(Self.maximumChainLength - 1).compactMap { certificate in
            (try? certificate.toDERBytes()).flatMap { try? Certificate(derEncoded: $0) }
        }
        _ = await isTrusted(leafDER: leafDER, presentedIntermediates: intermediates)
    }

    /// Whether `headers` name a user the way the installed configuration reads them: without, no client
    /// certificate needs to be looked at (finding it costs a trip to the connection's event loop).
    func namesUser(in headers: HTTPFields) -> Bool {
        guard let configuration = state.withLock({ $0.configuration }) else { return false }
        return configuration.usernameHeaders.contains { !Self.values(headers, $0).allSatisfy(\.isEmpty) }
    }

    /// The user a verified front proxy names in the headers; nil when the certificate does not verify,
    /// has a common name not allowed, or no user header is set.
    func authenticate(leaf: NIOSSLCertificate, headers: HTTPFields) async -> UserInfo? {
        guard let configuration = state.withLock({ $0.configuration }), let der = try? leaf.toDERBytes(),
            await isTrusted(leafDER: der, presentedIntermediates: [])
        else { return nil }
        return Self.user(from: headers, configuration: configuration)
    }

    /// Whether `leafDER` verifies under the current configuration, remembering it when it does.
    private func isTrusted(leafDER: [UInt8], presentedIntermediates: [Certificate]) async -> Bool {
        let fingerprint = SHA256.hash(data: leafDER)
        let (configuration, roots, generation, known) = state.withLock {
            ($0.configuration, $0.roots, $0.generation, $0.verified[fingerprint])
        }
        guard let configuration else { return false }
        if let known, known.generation == generation { return true }
        guard let leaf = try? Certificate(derEncoded: leafDER) else { return false }
        let intermediates = presentedIntermediates.isEmpty ? (known?.intermediates ?? []) : presentedIntermediates
        guard let used = await Self.verify(leaf: leaf, intermediates: intermediates, roots: roots, allowedNames: configuration.allowedNames) else {
            if known != nil { state.withLock { _ = $0.verified.removeValue(forKey: fingerprint) } }
            return false
        }
        state.withLock { state in
            guard state.generation == generation else { return }
            if state.verified[fingerprint] == nil, state.verified.count >= Self.verifiedCapacity, let victim = state.verified.keys.first {
                state.verified[victim] = nil
            }
            state.verified[fingerprint] = Verified(generation: generation, intermediates: used)
        }
        return true
    }

    /// The intermediates of the chain that verified `leaf` to one of `roots` for client authentication
    /// with an allowed common name, or nil when it does not.
    static func verify(leaf: Certificate, intermediates: [Certificate], roots: [Certificate], allowedNames: [String]) async -> [Certificate]? {
        var verifier = Verifier(rootCertificates: CertificateStore(roots)) {
            RFC5280Policy()
        }
        guard case .validCertificate(let chain) = await verifier.validate(leaf: leaf, intermediates: CertificateStore(intermediates)) else {
            return nil
        }
        if let usage = try? leaf.extensions.extendedKeyUsage, !usage.contains(.clientAuth) { return nil }
        if !allowedNames.isEmpty {
            guard let name = commonName(of: leaf), allowedNames.contains(name) else { return nil }
        }
        return Array(chain.dropFirst().dropLast())
    }

    /// The common name as Go's `crypto/x509` reads it: the last CN attribute of the subject.
    static func commonName(of certificate: Certificate) -> String? {
        certificate.subject.flatMap { $0 }.last { $0.type == .RDNAttributeType.commonName }.map { "\($0.value)" }
    }

    /// The user in the configured headers: the first non-empty user value, every non-empty group value,
    /// and the extras by their percent-decoded, lower-cased key.
    static func user(from headers: HTTPFields, configuration: RequestHeaderConfiguration) -> UserInfo? {
        guard let username = configuration.usernameHeaders.lazy.flatMap({ values(headers, $0) }).first(where: { !$0.isEmpty }) else {
            return nil
        }
        let groups = configuration.groupHeaders.flatMap { values(headers, $0) }.filter { !$0.isEmpty }
        var extra: [String: [String]] = [:]
        for field in headers {
            for prefix in configuration.extraHeaderPrefixes where field.name.canonicalName.hasPrefix(prefix.lowercased()) {
                let key = PercentDecoding.decode(field.name.canonicalName.dropFirst(prefix.count)) ?? ""
                if !key.isEmpty { extra[key.lowercased(), default: []].append(field.value) }
            }
        }
        return UserInfo(username: username, groups: groups, extra: extra)
    }

    private static func values(_ headers: HTTPFields, _ name: String) -> [String] {
        guard let fieldName = HTTPField.Name(name) else { return [] }
        return headers[values: fieldName]
    }
}
