import CustomMetricsAPI
import Hummingbird

/// One metrics API surface (custom.metrics.k8s.io, external.metrics.k8s.io): which requests under its
/// prefix it serves, and how it answers them from its provider.
public protocol MetricsAPIController: Sendable {
    /// A request of this API, parsed.
    associatedtype Parsed: Sendable
    /// The path prefix of the API group (`/apis/custom.metrics.k8s.io`).
    static var prefix: String { get }
    /// The request `target` names when it is this API's, else nil.
    func request(in target: RequestTarget) -> Parsed?
    /// The answer to one request; provider calls are bounded by `timeout`.
    func answer(_ request: Parsed, timeout: Duration) async throws(MetricsError) -> Response
}

/// What every metrics API shares: GET on the group prefix and everything under it, 405 for any other
/// method, the request target parsed once (by `StatusMiddleware`, or here), and errors turned into a
/// `Status` at this edge.
public struct MetricsAPIRoutes<Controller: MetricsAPIController, Context: RequestTargetContext>: Sendable {
    let controller: Controller
    let limits: RequestLimits

    public init(_ controller: Controller, limits: RequestLimits = RequestLimits()) {
        self.controller = controller
        self.limits = limits
    }

    /// Adds GET and 405 routes for the API's prefix and everything under it.
    public func addRoutes(to router: Router<Context>) {
        let prefix = Controller.prefix
        router.get(RouterPath(prefix), use: get)
        router.get(RouterPath(prefix + "/**"), use: get)
        for method in [HTTPRequest.Method.post, .put, .patch, .delete] {
            router.on(RouterPath(prefix), method: method, use: Self.methodNotAllowed)
            router.on(RouterPath(prefix + "/**"), method: method, use: Self.methodNotAllowed)
        }
    }

    /// Every GET under the group prefix.
    @Sendable func get(_ request: Request, context: Context) async throws -> Response {
        let target = context.target(of: request, limits: limits)
        guard let parsed = controller.request(in: target) else { return Self.notServed(target) }
        do throws(MetricsError) {
            return try await controller.answer(parsed, timeout: limits.requestTimeout)
        } catch {
            return JSONResponse.status(error)
        }
    }

    @Sendable static func methodNotAllowed(_ request: Request, context: Context) async throws -> Response {
        JSONResponse.status(MetricsError(.methodNotAllowed, "the server does not allow this method on the requested resource: only get is supported"))
    }

    /// The Status for a target the controller does not serve: its parse error, or 404.
    static func notServed(_ target: RequestTarget) -> Response {
        switch target {
        case .tooLong(let error), .malformed(let error, _, _): JSONResponse.status(error)
        default: JSONResponse.status(MetricsError.pathNotFound)
        }
    }
}
