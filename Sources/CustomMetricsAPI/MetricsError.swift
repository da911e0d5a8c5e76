/// An error a metrics request ends in: a stable code and a message that is safe to show the client.
///
/// Providers and the request parser throw these; the server turns them into a Kubernetes `Status` at its
/// edge. Messages never carry backend internals (Prometheus URLs, PromQL, upstream bodies): those are
/// logged where the error is made.
public struct MetricsError: Error, Sendable, Hashable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        fileprivate enum Kind: Sendable, Hashable {
            case badRequest, unauthorized, forbidden, notFound, methodNotAllowed, uriTooLong, tooManyRequests
            case internalError, serviceUnavailable
        }
        fileprivate let kind: Kind

        /// 400: a malformed selector, path, name or parameter.
        public static let badRequest = Code(kind: .badRequest)
        /// 401: no verified identity.
        public static let unauthorized = Code(kind: .unauthorized)
        /// 403: the identity may not do this.
        public static let forbidden = Code(kind: .forbidden)
        /// 404: an unknown metric, object or path.
        public static let notFound = Code(kind: .notFound)
        /// 405: a verb other than GET.
        public static let methodNotAllowed = Code(kind: .methodNotAllowed)
        /// 414: a request target longer than the server accepts.
        public static let uriTooLong = Code(kind: .uriTooLong)
        /// 429: over a concurrency limit.
        public static let tooManyRequests = Code(kind: .tooManyRequests)
        /// 500: the backend answered, but not with something usable.
        public static let internalError = Code(kind: .internalError)
        /// 503: the backend could not be reached or did not answer in time.
        public static let serviceUnavailable = Code(kind: .serviceUnavailable)

        /// The HTTP status and `Status.code`.
        public var httpStatus: Int {
            switch kind {
            case .badRequest: 400
            case .unauthorized: 401
            case .forbidden: 403
            case .notFound: 404
            case .methodNotAllowed: 405
            case .uriTooLong: 414
            case .tooManyRequests: 429
            case .internalError: 500
            case .serviceUnavailable: 503
            }
        }

        /// The `Status.reason`, as apimachinery's `StatusReason` constants spell it.
        public var reason: String {
            switch kind {
            case .badRequest: "BadRequest"
            case .unauthorized: "Unauthorized"
            case .forbidden: "Forbidden"
            case .notFound: "NotFound"
            case .methodNotAllowed: "MethodNotAllowed"
            case .uriTooLong: "RequestURITooLong"
            case .tooManyRequests: "TooManyRequests"
            case .internalError: "InternalError"
            case .serviceUnavailable: "ServiceUnavailable"
            }
        }

        public var description: String { reason }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.httpStatus) \(code.reason): \(message)" }

    /// 404 for a metric no rule serves on this resource.
    public static func metricNotFound(_ metric: String, resource: String) -> MetricsError {
        .init(.notFound, "the server could not find the metric \(metric) for \(resource)")
    }

    /// 404 for a path outside the API.
    public static let pathNotFound = MetricsError(.notFound, "the server could not find the requested resource")
}
