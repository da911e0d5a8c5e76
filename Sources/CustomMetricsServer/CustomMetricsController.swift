import CustomMetricsAPI
import Hummingbird
import Logging

/// Serves `custom.metrics.k8s.io`: the group document, discovery for each version, and metric values,
/// for any provider.
///
/// Paths are parsed by `MetricsRequest` from the raw request URI so that percent-encoding (`%2A`, `+`)
/// is decoded exactly once, segment by segment.
public struct CustomMetricsController<Provider: CustomMetricsProvider, Context: RequestContext>: Sendable {
    let provider: Provider
    let limits: RequestLimits

    public init(provider: Provider, limits: RequestLimits = RequestLimits()) {
        self.provider = provider
        self.limits = limits
    }

    /// Adds the API's routes to `router`.
    public func addRoutes(to router: Router<Context>) {
        router.get(RouterPath(MetricsRequest.prefix), use: self.get)
        router.get(RouterPath(MetricsRequest.prefix + "/**"), use: self.get)
        for method in [HTTPRequest.Method.post, .put, .patch, .delete] {
            router.on(RouterPath(MetricsRequest.prefix), method: method, use: self.methodNotAllowed)
            router.on(RouterPath(MetricsRequest.prefix + "/**"), method: method, use: self.methodNotAllowed)
        }
    }

    /// Every GET under the group prefix.
    @Sendable func get(_ request: Request, context: Context) async throws -> Response {
        if let error = limits.uriTooLong(request.uri) { return JSONResponse.status(error) }
        let parsed: MetricsRequest
        do {
            parsed = try MetricsRequest(path: request.uri.path, query: request.uri.query ?? "")
        } catch {
            return JSONResponse.status(error)
        }
        do throws(MetricsError) {
            switch parsed {
            case .group:
                return JSONResponse.make(APIGroup())
            case .discovery(let version):
                return JSONResponse.make(APIResourceList(version: version, metrics: provider.listMetrics()))
            case .object(let version, let object, let metric):
                let value = try await withRequestTimeout(limits.requestTimeout) { [provider] () async throws(MetricsError) in
                    try await provider.metric(for: object, metric: metric)
                }
                return JSONResponse.make(MetricValueList(version: version, items: [value]))
            case .selection(let version, let resource, let namespace, let selector, let metric):
                let values = try await withRequestTimeout(limits.requestTimeout) { [provider] () async throws(MetricsError) in
                    try await provider.metrics(resource: resource, namespace: namespace, selector: selector, metric: metric)
                }
                return JSONResponse.make(MetricValueList(version: version, items: values))
            }
        } catch {
            return JSONResponse.status(error)
        }
    }

    @Sendable func methodNotAllowed(_ request: Request, context: Context) async throws -> Response {
        JSONResponse.status(MetricsError(.methodNotAllowed, "the server does not allow this method on the requested resource: only get is supported"))
    }
}
