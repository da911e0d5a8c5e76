import CustomMetricsAPI
import Crypto
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOSSL

/// How requests are authenticated and authorized.
public struct AuthConfiguration: Sendable {
    /// Serve everyone as `system:anonymous`, without reviews: only for local runs, asked for explicitly.
    public var insecureLocalMode: Bool
    public var tokenReviewer: (any TokenReviewing)?
    public var accessReviewer: (any AccessReviewing)?
    public var requestHeader: RequestHeaderAuthenticator?
    /// Paths answered without authentication or authorization (`--authorization-always-allow-paths`).
    public var alwaysAllowPaths: [String]
    public var tokenCacheTTL: Duration
    public var authorizedCacheTTL: Duration
    public var unauthorizedCacheTTL: Duration
    /// Entries each cache (tokens, decisions) keeps at most.
    public var cacheCapacity: Int
    /// Bytes each cache keeps at most; with keys of 32 bytes this bounds what distinct paths or tokens
    /// from an authenticated client can cost (`--authorization-cache-max-bytes`).
    public var cacheMaximumBytes: Int

    public init(
        insecureLocalMode: Bool = false,
        tokenReviewer: (any TokenReviewing)? = nil,
        accessReviewer: (any AccessReviewing)? = nil,
        requestHeader: RequestHeaderAuthenticator? = nil,
        alwaysAllowPaths: [String] = HealthController<AdapterRequestContext>.healthPaths,
        tokenCacheTTL: Duration = .seconds(10),
        authorizedCacheTTL: Duration = .seconds(10),
        unauthorizedCacheTTL: Duration = .seconds(10),
        cacheCapacity: Int = 10_000,
        cacheMaximumBytes: Int = 4 << 20
    ) {
        self.insecureLocalMode = insecureLocalMode
        self.tokenReviewer = tokenReviewer
        self.accessReviewer = accessReviewer
        self.requestHeader = requestHeader
        self.alwaysAllowPaths = alwaysAllowPaths
        self.tokenCacheTTL = tokenCacheTTL
        self.authorizedCacheTTL = authorizedCacheTTL
        self.unauthorizedCacheTTL = unauthorizedCacheTTL
        self.cacheCapacity = cacheCapacity
        self.cacheMaximumBytes = cacheMaximumBytes
    }

    /// No authentication at all (tests through the router, `--insecure-local-mode`).
    public static let insecureLocal = AuthConfiguration(insecureLocalMode: true)
}

/// Authenticates (front-proxy certificate and headers, else bearer token by TokenReview) and authorizes
/// (SubjectAccessReview) every request outside the always-allowed paths. 401 and 403 are Status objects
/// saying who was denied what; tokens never reach a log line.
///
/// Both caches are keyed by SHA-256 digests (of the token; of the user and attributes), bounded by
/// entries and bytes, and merge concurrent identical reviews into one.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = AdapterRequestContext

    let configuration: AuthConfiguration
    let limits: RequestLimits
    let tokens: ReviewCache<SHA256Digest, UserInfo?>
    let decisions: ReviewCache<SHA256Digest, Decision>

    struct Decision: Sendable {
        var allowed: Bool
        var reason: String
    }

    init(configuration: AuthConfiguration, limits: RequestLimits = RequestLimits()) {
        self.configuration = configuration
        self.limits = limits
        self.tokens = ReviewCache(capacity: configuration.cacheCapacity, maximumBytes: configuration.cacheMaximumBytes) { user in
            user.map(Self.cost(of:)) ?? 0
        }
        self.decisions = ReviewCache(capacity: configuration.cacheCapacity, maximumBytes: configuration.cacheMaximumBytes) { decision in
            decision.reason.utf8.count
        }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let target = context.target(of: request, limits: limits)
        if case .tooLong(let error) = target { return JSONResponse.status(error) }
        if configuration.insecureLocalMode || configuration.alwaysAllowPaths.contains(request.uri.path) {
            return try await next(request, context)
        }
        var context = context
        let user: UserInfo
        do {
            guard let authenticated = try await authenticate(request, context: context) else {
                return JSONResponse.status(MetricsError(.unauthorized, "Unauthorized"))
            }
            user = authenticated
        } catch {
            context.logger.info("authentication could not be completed", metadata: ["error": "\(error)"])
            return JSONResponse.status(MetricsError(.serviceUnavailable, "authentication is temporarily unavailable"))
        }
        context.user = user
        let verb = request.method == .get || request.method == .head ? "get" : request.method.rawValue.lowercased()
        let attributes = target.attributes(verb: verb)
        let decision: Decision
        do {
            decision = try await authorize(user: user, attributes: attributes)
        } catch {
            context.logger.info("authorization could not be completed", metadata: ["error": "\(error)"])
            return JSONResponse.status(MetricsError(.serviceUnavailable, "authorization is temporarily unavailable"))
        }
        guard decision.allowed else {
            let reason = decision.reason.isEmpty ? "" : ": \(decision.reason)"
            return JSONResponse.status(MetricsError(.forbidden, "User \"\(user.username)\" cannot \(attributes)\(reason)"))
        }
        return try await next(request, context)
    }

    private func authenticate(_ request: Request, context: Context) async throws -> UserInfo? {
        if let authenticator = configuration.requestHeader, authenticator.namesUser(in: request.headers),
            let leaf = await Self.peerCertificate(context.channel),
            let user = await authenticator.authenticate(leaf: leaf, headers: request.headers)
        {
            return user
        }
        guard let authorization = request.headers[.authorization], let token = Self.bearerToken(authorization),
            let reviewer = configuration.tokenReviewer
        else { return nil }
        // Cached by digest: the cache holds no token.
        let ttl = configuration.tokenCacheTTL
        var bytes = token
        let digest = bytes.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
        return try await tokens.value(for: digest, ttl: { _ in ttl }) {
            try await reviewer.review(token: token)
        }
    }

    private func authorize(user: UserInfo, attributes: AuthorizationAttributes) async throws -> Decision {
        guard let reviewer = configuration.accessReviewer else {
            return Decision(allowed: false, reason: "no authorizer is configured")
        }
        let (allowedTTL, deniedTTL) = (configuration.authorizedCacheTTL, configuration.unauthorizedCacheTTL)
        return try await decisions.value(for: Self.digest(user: user, attributes: attributes), ttl: { $0.allowed ? allowedTTL : deniedTTL }) {
            let (allowed, reason) = try await reviewer.review(user: user, attributes: attributes)
            return Decision(allowed: allowed, reason: reason)
        }
    }

    /// The token of an `Authorization: Bearer <token>` value (the scheme in any case, spaces around the
    /// token ignored); nil for another scheme or an empty token. Read on bytes: a token is ASCII, and a
    /// JWT is a kilobyte that Unicode-aware lowercasing and trimming would walk character by character.
    static func bearerToken(_ authorization: String) -> String? {
        let bytes = authorization.utf8
        let scheme = Array("bearer ".utf8)
        guard bytes.count > scheme.count, zip(bytes, scheme).allSatisfy({ $0 | 0x20 == $1 }) else { return nil }
        let rest = bytes.dropFirst(scheme.count)
        let isSpace: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        guard let first = rest.firstIndex(where: { !isSpace($0) }), let last = rest.lastIndex(where: { !isSpace($0) }) else {
            return nil
        }
        return String(Substring(bytes[first...last]))
    }

    /// A 32-byte key for a (user, attributes) pair: every field length-prefixed, so no two pairs share
    /// an encoding, then hashed, so a long path costs its length once, not for as long as it is cached.
    static func digest(user: UserInfo, attributes: AuthorizationAttributes) -> SHA256Digest {
        var hasher = SHA256()
        func add(_ text: String) {
            var text = text
            text.withUTF8 { bytes in
                withUnsafeBytes(of: UInt64(bytes.count).littleEndian) { hasher.update(bufferPointer: $0) }
                hasher.update(bufferPointer: UnsafeRawBufferPointer(bytes))
            }
        }
        add(user.username)
        add(user.uid)
        user.groups.forEach(add)
        add("|extra")
        for key in user.extra.keys.sorted() {
            add(key)
            user.extra[key, default: []].forEach(add)
        }
        switch attributes {
        case .resource(let verb, let group, let version, let resource, let subresource, let namespace, let name):
            [ "resource", verb, group, version, resource, subresource, namespace.map { "+" + $0 } ?? "-", name.map { "+" + $0 } ?? "-" ].forEach(add)
        case .nonResource(let verb, let path):
            ["nonResource", verb, path].forEach(add)
        }
        return hasher.finalize()
    }

    /// The bytes a cached user holds.
    static func cost(of user: UserInfo) -> Int {
        let strings = [user.username, user.uid] + user.groups + user.extra.flatMap { [$0.key] + $0.value }
        return strings.reduce(0) { $0 + 16 + $1.utf8.count }
    }

    /// The client certificate of the connection: on the channel itself for HTTP/1.1, on its parent (the
    /// connection) for an HTTP/2 stream.
    static func peerCertificate(_ channel: (any Channel)?) async -> NIOSSLCertificate? {
        guard let channel else { return nil }
        if let certificate = try? await channel.nioSSL_peerCertificate().get() { return certificate }
        if let parent = channel.parent, let certificate = try? await parent.nioSSL_peerCertificate().get() { return certificate }
        return nil
    }
}
