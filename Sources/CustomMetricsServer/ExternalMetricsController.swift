import CustomMetricsAPI
import Hummingbird

/// Serves `external.metrics.k8s.io/v1beta1`: the group document, discovery, and a metric's values in a
/// namespace, for any provider.
public struct ExternalMetricsController<Provider: ExternalMetricsProvider, Context: RequestTargetContext>: Sendable {
    let provider: Provider
    let limits: RequestLimits

    public init(provider: Provider, limits: RequestLimits = RequestLimits()) {
        self.provider = provider
        self.limits = limits
    }

    /// Adds the API's routes to `router`.
    public func addRoutes(to router: Router<Context>) {
        MetricsAPIRoutes.add(prefix: ExternalMetricsRequest.prefix, to: router, get: self.get)
    }

    /// Every GET under the group prefix.
    @Sendable func get(_ request: Request, context: Context) async throws -> Response {
        guard case .externalMetrics(let parsed) = context.target(of: request, limits: limits) else {
            return MetricsAPIRoutes.notServed(context.target(of: request, limits: limits))
        }
        do throws(MetricsError) {
            switch parsed {
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
}
