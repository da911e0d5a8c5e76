import CustomMetricsAPI
import Hummingbird

/// What the two metrics API controllers share: their routes (GET on the group prefix and everything
/// under it, 405 for any other method) and the answer for a target that is not theirs or is malformed.
enum MetricsAPIRoutes {
    /// Adds GET and 405 routes for `prefix` and `prefix/**`.
    static func add<Context: RequestContext>(
        prefix: String,
        to router: Router<Context>,
        get: @escaping @Sendable (Request, Context) async throws -> Response
    ) {
        router.get(RouterPath(prefix), use: get)
        router.get(RouterPath(prefix + "/**"), use: get)
        for method in [HTTPRequest.Method.post, .put, .patch, .delete] {
            router.on(RouterPath(prefix), method: method, use: methodNotAllowed)
            router.on(RouterPath(prefix + "/**"), method: method, use: methodNotAllowed)
        }
    }

    @Sendable static func methodNotAllowed<Context: RequestContext>(_ request: Request, context: Context) async throws -> Response {
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
