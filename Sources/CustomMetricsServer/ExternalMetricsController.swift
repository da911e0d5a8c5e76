import CustomMetricsAPI
import Hummingbird

/// Serves `external.metrics.k8s.io/v1beta1`: the group document, discovery, and a metric's values in a
/// namespace, for any provider.
public struct ExternalMetricsController<Provider: ExternalMetricsProvider, Context: RequestContext>: Sendable {
    let provider: Provider
    let limits: RequestLimits

    public init(provider: Provider, limits: RequestLimits = RequestLimits()) {
        self.provider = provider
        self.limits = limits
    }

    /// Adds the API's routes to `router`.
    public func addRoutes(to router: Router<Context>) {
        router.get(RouterPath(ExternalMetricsRequest.prefix), use: self.get)
        router.get(RouterPath(ExternalMetricsRequest.prefix + "/**"), use: self.get)
        for method in [HTTPRequest.Method.post, .put, .patch, .delete] {
            router.on(RouterPath(ExternalMetricsRequest.prefix), method: method, use: self.methodNotAllowed)
            router.on(RouterPath(ExternalMetricsRequest.prefix + "/**"), method: method, use: self.methodNotAllowed)
        }
    }

    /// Every GET under the group prefix.
    @Sendable func get(_ request: Request, context: Context) async throws -> Response {
        if let error = limits.uriTooLong(request.uri) { return JSONResponse.status(error) }
        do throws(MetricsError) {
            switch try ExternalMetricsRequest(path: request.uri.path, query: request.uri.query ?? "") {
            case .group:
                return JSONResponse.make(ExternalAPIGroup())
            case .discovery:
                return JSONResponse.make(ExternalAPIResourceList(metrics: provider.listExternalMetrics()))
            case .values(let namespace, let metric, let selector):
                let values = try await withRequestTimeout(limits.requestTimeout) { [provider] () async throws(MetricsError) in
                    try await provider.externalMetrics(namespace: namespace, metric: metric, selector: selector)
                }
                return JSONResponse.make(ExternalMetricValueList(items: values))
            }
        } catch {
            return JSONResponse.status(error)
        }
    }

    @Sendable func methodNotAllowed(_ request: Request, context: Context) async throws -> Response {
        JSONResponse.status(MetricsError(.methodNotAllowed, "the server does not allow this method on the requested resource: only get is supported"))
    }
}
