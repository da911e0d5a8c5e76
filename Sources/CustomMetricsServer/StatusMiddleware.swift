import CustomMetricsAPI
import Hummingbird
import Logging
import Metrics

/// The outermost middleware: parses the request target once (an over-long one is answered 414 here,
/// before any authentication or review), turns whatever escapes a handler (the router's 404, a thrown
/// error) into a Kubernetes `Status`, and counts and times every request.
struct StatusMiddleware<Context: RequestTargetContext>: RouterMiddleware {
    let metricsFactory: any MetricsFactory
    let limits: RequestLimits

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let target = RequestTarget(path: request.uri.path, query: request.uri.query ?? "", maximumLength: limits.maximumURILength)
        var context = context
        context.target = target
        let response: Response
        if case .tooLong(let error) = target {
            response = JSONResponse.status(error)
        } else {
            response = await Self.respond(request, context: context, next: next)
        }
        let elapsed = ContinuousClock.now - started
        let code = String(response.status.code)
        Counter(label: "custom_metrics_adapter_requests_total", dimensions: [("kind", target.kind), ("code", code)], factory: metricsFactory)
            .increment()
        Metrics.Timer(label: "custom_metrics_adapter_request_duration_seconds", dimensions: [("kind", target.kind)], factory: metricsFactory)
            .recordNanoseconds(Int64(elapsed.components.seconds) * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        return response
    }

    private static func respond(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            return JSONResponse.status(MetricsError.pathNotFound)
        } catch let error as HTTPError where error.status == .methodNotAllowed {
            return JSONResponse.status(MetricsError(.methodNotAllowed, "the server does not allow this method on the requested resource"))
        } catch let error as HTTPError where (400..<500).contains(error.status.code) {
            return JSONResponse.status(MetricsError(.badRequest, error.body ?? "bad request"))
        } catch {
            context.logger.info("request failed", metadata: ["error": "\(error)"])
            return JSONResponse.status(MetricsError(.internalError, "internal error"))
        }
    }
}
