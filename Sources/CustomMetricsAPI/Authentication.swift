/// Who made a request, as Kubernetes `user.Info` describes a user.
public struct UserInfo: Sendable, Hashable {
    public var username: String
    public var uid: String
    public var groups: [String]
    public var extra: [String: [String]]

    public init(username: String, uid: String = "", groups: [String] = [], extra: [String: [String]] = [:]) {
        self.username = username
        self.uid = uid
        self.groups = groups
        self.extra = extra
    }
}

/// What a request asks to do, in SubjectAccessReview terms.
public enum AuthorizationAttributes: Sendable, Hashable, CustomStringConvertible {
    /// A metric read: `get` on `resource` (the described objects' resource) in `custom.metrics.k8s.io`,
    /// `subresource` the metric name, `name` the object name (nil for a selection).
    case resource(verb: String, group: String, version: String, resource: String, subresource: String, namespace: String?, name: String?)
    /// Discovery, OpenAPI and `/metrics`.
    case nonResource(verb: String, path: String)

    /// The phrase kube-apiserver puts in a 403 message.
    public var description: String {
        switch self {
        case .resource(let verb, let group, _, let resource, let subresource, let namespace, let name):
            let object = name.map { " \"\($0)\"" } ?? ""
            let place = namespace.map { " in the namespace \"\($0)\"" } ?? ""
            let named = subresource.isEmpty ? resource : "\(resource)/\(subresource)"
            return "\(verb) resource \"\(named)\"\(object) in API group \"\(group)\"\(place)"
        case .nonResource(let verb, let path):
            return "\(verb) path \"\(path)\""
        }
    }
}

/// Authenticates bearer tokens (Kubernetes: TokenReview).
public protocol TokenReviewing: Sendable {
    /// The user the token belongs to, or nil when it is not valid.
    ///
    /// - Throws: when the review itself could not be made (the API is unreachable).
    func review(token: String) async throws -> UserInfo?
}

/// Decides whether a user may do something (Kubernetes: SubjectAccessReview).
public protocol AccessReviewing: Sendable {
    /// - Returns: whether it is allowed, and the authorizer's reason.
    /// - Throws: when the review itself could not be made.
    func review(user: UserInfo, attributes: AuthorizationAttributes) async throws -> (allowed: Bool, reason: String)
}

/// How the kube-aggregator proves who it is: a client certificate signed by the front-proxy CA, whose
/// common name is in `allowedNames` (any name when empty), and the user in these headers.
public struct RequestHeaderConfiguration: Sendable, Hashable {
    /// The front-proxy CA bundle, PEM.
    public var clientCAPEM: String
    public var allowedNames: [String]
    public var usernameHeaders: [String]
    public var groupHeaders: [String]
    public var extraHeaderPrefixes: [String]

    public init(
        clientCAPEM: String,
        allowedNames: [String] = [],
        usernameHeaders: [String] = ["X-Remote-User"],
        groupHeaders: [String] = ["X-Remote-Group"],
        extraHeaderPrefixes: [String] = ["X-Remote-Extra-"]
    ) {
        self.clientCAPEM = clientCAPEM
        self.allowedNames = allowedNames
        self.usernameHeaders = usernameHeaders
        self.groupHeaders = groupHeaders
        self.extraHeaderPrefixes = extraHeaderPrefixes
    }
}

/// Where the request-header configuration comes from (a file, or the
/// `kube-system/extension-apiserver-authentication` ConfigMap); asked again periodically.
public protocol RequestHeaderSource: Sendable {
    func load() async throws -> RequestHeaderConfiguration
}
