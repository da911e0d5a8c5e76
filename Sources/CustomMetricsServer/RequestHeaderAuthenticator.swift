import CustomMetricsAPI
import Crypto
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import Synchronization
import HTTPTypes
import SwiftASN1
import X509

/// Authenticates the kube-aggregator: a client certificate that verifies against the front-proxy CA, with
/// a common name in the allowed names (any, when the list is empty). Only then are the user, group and
/// extra headers believed; from anyone else they are ignored.
public final class RequestHeaderAuthenticator: Sendable {
    private struct State {
        var configuration: RequestHeaderConfiguration?
        var roots: [Certificate] = []
        /// Verified leaf certificates (by DER), so a connection's certificate is checked once per configuration.
        var verdicts: [Data: Bool] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Installs a (new) configuration: a CA rotation takes effect for the next request.
    public func update(_ configuration: RequestHeaderConfiguration) throws {
        let roots: [Certificate]
        do {
            roots = try PEMDocument.parseMultiple(pemString: configuration.clientCAPEM).map { try Certificate(pemDocument: $0) }
        } catch {
            throw RequestHeaderError("the front-proxy CA bundle is not valid PEM certificates: \(error)")
        }
        guard !roots.isEmpty else { throw RequestHeaderError("the front-proxy CA bundle holds no certificate") }
        state.withLock { $0 = State(configuration: configuration, roots: roots, verdicts: [:]) }
    }

    /// Whether a configuration is installed.
    public var isConfigured: Bool { state.withLock { $0.configuration != nil } }

    /// The user a verified front proxy names in the headers; nil when the certificate is absent, does not
    /// verify, has a common name not allowed, or no user header is set.
    func authenticate(leaf: NIOSSLCertificate, headers: HTTPFields) async -> UserInfo? {
        guard let der = try? Data(leaf.toDERBytes()) else { return nil }
        let (configuration, roots, cached) = state.withLock { ($0.configuration, $0.roots, $0.verdicts[der]) }
        guard let configuration else { return nil }
        let trusted: Bool
        if let cached {
            trusted = cached
        } else {
            trusted = await Self.verify(der: der, roots: roots, allowedNames: configuration.allowedNames)
            state.withLock { state in
                if state.verdicts.count > 1000 { state.verdicts.removeAll() }
                state.verdicts[der] = trusted
            }
        }
        guard trusted else { return nil }
        guard let username = configuration.usernameHeaders.lazy.compactMap({ Self.values(headers, $0).first }).first,
            !username.isEmpty
        else { return nil }
        let groups = configuration.groupHeaders.flatMap { Self.values(headers, $0) }
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

    private static func verify(der: Data, roots: [Certificate], allowedNames: [String]) async -> Bool {
        guard let leaf = try? Certificate(derEncoded: Array(der)) else { return false }
        var verifier = Verifier(rootCertificates: CertificateStore(roots)) {
            RFC5280Policy()
        }
        guard case .validCertificate = await verifier.validate(leaf: leaf, intermediates: CertificateStore()) else {
            return false
        }
        if let usage = try? leaf.extensions.extendedKeyUsage, !usage.contains(.clientAuth) { return false }
        if allowedNames.isEmpty { return true }
        let commonNames = leaf.subject.flatMap { $0 }.filter { $0.type == .RDNAttributeType.commonName }.map { "\($0.value)" }
        return commonNames.contains { allowedNames.contains($0) }
    }
}

/// Keeps a `RequestHeaderAuthenticator` current: loads the configuration at start and again every
/// `interval`, so a rotated front-proxy CA or a changed allowed-names list takes effect without a restart.
public struct RequestHeaderRefresher: Service {
    let authenticator: RequestHeaderAuthenticator
    let source: any RequestHeaderSource
    let interval: Duration
    let logger: Logger

    public init(authenticator: RequestHeaderAuthenticator, source: any RequestHeaderSource, interval: Duration = .seconds(30), logger: Logger) {
        self.authenticator = authenticator
        self.source = source
        self.interval = interval
        self.logger = logger
    }

    /// Loads once; used at start so the first requests can already be authenticated.
    public func refresh() async {
        do {
            let configuration = try await source.load()
            try authenticator.update(configuration)
        } catch {
            logger.info("front-proxy configuration not loaded; keeping the previous one", metadata: ["error": "\(error)"])
        }
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await refresh()
                try? await Task.sleep(for: interval)
            }
        }
    }
}

/// The request-header configuration from flags and a CA file (`--requestheader-client-ca-file`), re-read
/// on every load so a rotated file is picked up.
public struct RequestHeaderFile: RequestHeaderSource {
    public var caFile: String
    public var template: RequestHeaderConfiguration

    public init(caFile: String, template: RequestHeaderConfiguration) {
        self.caFile = caFile
        self.template = template
    }

    public func load() async throws -> RequestHeaderConfiguration {
        var configuration = template
        do {
            configuration.clientCAPEM = try String(contentsOfFile: caFile, encoding: .utf8)
        } catch {
            throw RequestHeaderError("cannot read --requestheader-client-ca-file \(caFile): \(error.localizedDescription)")
        }
        return configuration
    }
}

public struct RequestHeaderError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
