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
    public var cacheCapacity: Int

    public init(
        insecureLocalMode: Bool = false,
        tokenReviewer: (any TokenReviewing)? = nil,
        accessReviewer: (any AccessReviewing)? = nil,
        requestHeader: RequestHeaderAuthenticator? = nil,
        alwaysAllowPaths: [String] = HealthController<AdapterRequestContext>.healthPaths,
        tokenCacheTTL: Duration = .seconds(10),
        authorizedCacheTTL: Duration = .seconds(10),
        unauthorizedCacheTTL: Duration = .seconds(10),
        cacheCapacity: Int = 10_000
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
    }

    /// No authentication at all (tests through the router, `--insecure-local-mode`).
    public static let insecureLocal = AuthConfiguration(insecureLocalMode: true)
}

/// Authenticates (front-proxy certificate and headers, else bearer token by TokenReview) and authorizes
/// (SubjectAccessReview) every request outside the always-allowed paths. 401 and 403 are Status objects
/// saying who was denied what; tokens never reach a log line.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = AdapterRequestContext

    let configuration: AuthConfiguration
    let tokens: ReviewCache<String, UserInfo?>
    let decisions: ReviewCache<DecisionKey, Decision>

    struct DecisionKey: Hashable, Sendable {
        var user: UserInfo
        var attributes: AuthorizationAttributes
    }

    struct Decision: Sendable {
        var allowed: Bool
        var reason: String
    }

    init(configuration: AuthConfiguration) {
        self.configuration = configuration
        self.tokens = ReviewCache(capacity: configuration.cacheCapacity)
        self.decisions = ReviewCache(capacity: configuration.cacheCapacity)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
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
        let attributes = Self.attributes(of: request)
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
        if let authenticator = configuration.requestHeader, let leaf = await Self.peerCertificate(context.channel),
            let user = await authenticator.authenticate(leaf: leaf, headers: request.headers)
        {
            return user
        }
        guard let authorization = request.headers[.authorization], authorization.lowercased().hasPrefix("bearer ") else {
            return nil
        }
        let token = String(authorization.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty, let reviewer = configuration.tokenReviewer else { return nil }
        // Cached by digest: the cache holds no token.
        let digest = SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
        if let cached = tokens.value(for: digest) { return cached }
        let user = try await reviewer.review(token: token)
        tokens.store(user, for: digest, ttl: configuration.tokenCacheTTL)
        return user
    }

    private func authorize(user: UserInfo, attributes: AuthorizationAttributes) async throws -> Decision {
        guard let reviewer = configuration.accessReviewer else {
            return Decision(allowed: false, reason: "no authorizer is configured")
        }
        let key = DecisionKey(user: user, attributes: attributes)
        if let cached = decisions.value(for: key) { return cached }
        let (allowed, reason) = try await reviewer.review(user: user, attributes: attributes)
        let decision = Decision(allowed: allowed, reason: reason)
        decisions.store(decision, for: key, ttl: allowed ? configuration.authorizedCacheTTL : configuration.unauthorizedCacheTTL)
        return decision
    }

    /// The client certificate of the connection: on the channel itself for HTTP/1.1, on its parent (the
    /// connection) for an HTTP/2 stream.
    static func peerCertificate(_ channel: (any Channel)?) async -> NIOSSLCertificate? {
        guard let channel else { return nil }
        if let certificate = try? await channel.nioSSL_peerCertificate().get() { return certificate }
        if let parent = channel.parent, let certificate = try? await parent.nioSSL_peerCertificate().get() { return certificate }
        return nil
    }

    /// What the request asks to do: a metric read is a resource request, anything else non-resource.
    static func attributes(of request: Request) -> AuthorizationAttributes {
        let verb = request.method == .get || request.method == .head ? "get" : request.method.rawValue.lowercased()
        if let parsed = try? MetricsRequest(path: request.uri.path, query: request.uri.query ?? "") {
            switch parsed {
            case .object(let version, let object, let metric):
                return .resource(verb: verb, group: APIVersion.group, version: version.rawValue, resource: object.resource,
                                 subresource: metric.name, namespace: object.namespace, name: object.name)
            case .selection(let version, let resource, let namespace, _, let metric):
                return .resource(verb: verb, group: APIVersion.group, version: version.rawValue, resource: resource,
                                 subresource: metric.name, namespace: namespace, name: nil)
            case .group, .discovery:
                break
            }
        }
        // kube-apiserver's request info for a namespaced collection: verb list, the metric as resource.
        if case .values(let namespace, let metric, _)? = try? ExternalMetricsRequest(path: request.uri.path, query: request.uri.query ?? "") {
            return .resource(verb: verb == "get" ? "list" : verb, group: ExternalMetricsRequest.groupName, version: ExternalMetricsRequest.version,
                             resource: metric, subresource: "", namespace: namespace, name: nil)
        }
        return .nonResource(verb: verb, path: request.uri.path)
    }
}
