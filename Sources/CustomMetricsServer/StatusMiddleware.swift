import CustomMetricsAPI
import Hummingbird
import Logging
import Metrics

/// Turns whatever escapes a handler (the router's 404, a thrown error) into a Kubernetes `Status`, and
/// counts and times every request.
struct StatusMiddleware<Context: RequestContext>: RouterMiddleware {
    let metricsFactory: any MetricsFactory

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let response: Response
        do {
            response = try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            response = JSONResponse.status(MetricsError.pathNotFound)
        } catch let error as HTTPError where error.status == .methodNotAllowed {
            response = JSONResponse.status(MetricsError(.methodNotAllowed, "the server does not allow this method on the requested resource"))
        } catch let error as HTTPError where (400..<500).contains(error.status.code) {
            response = JSONResponse.status(MetricsError(.badRequest, error.body ?? "bad request"))
        } catch {
            context.logger.info("request failed", metadata: ["error": "\(error)"])
            response = JSONResponse.status(MetricsError(.internalError, "internal error"))
        }
        let elapsed = ContinuousClock.now - started
        let kind = Self.kind(of: request.uri.path)
        let code = String(response.status.code)
        Counter(label: "custom_metrics_adapter_requests_total", dimensions: [("kind", kind), ("code", code)], factory: metricsFactory)
            .increment()
        Metrics.Timer(label: "custom_metrics_adapter_request_duration_seconds", dimensions: [("kind", kind)], factory: metricsFactory)
            .recordNanoseconds(Int64(elapsed.components.seconds) * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        return response
    }

    /// A low-cardinality label for the request's path.
    static func kind(of path: String) -> String {
        if path.hasPrefix(ExternalMetricsRequest.prefix) {
            let depth = path.dropFirst(ExternalMetricsRequest.prefix.count).split(separator: "/").count
            return depth <= 1 ? "external_discovery" : "external_metric"
        }
        guard path.hasPrefix(MetricsRequest.prefix) else {
            if HealthController<Context>.healthPaths.contains(path) { return "health" }
            if path == "/metrics" { return "metrics" }
            return path.hasPrefix("/openapi") ? "openapi" : "other"
        }
        let depth = path.dropFirst(MetricsRequest.prefix.count).split(separator: "/").count
        return depth <= 1 ? "discovery" : "metric"
    }
}
