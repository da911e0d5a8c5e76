import CustomMetricsAPI
import Hummingbird

/// Serves `custom.metrics.k8s.io`: the group document, discovery for each version, and metric values,
/// for any provider.
///
/// The request arrives parsed (`RequestTarget`, from the raw URI, so percent-encoding such as `%2A` and
/// `+` is decoded exactly once, segment by segment).
public struct CustomMetricsController<Provider: CustomMetricsProvider, Context: RequestTargetContext>: Sendable {
    let provider: Provider
    let limits: RequestLimits

    public init(provider: Provider, limits: RequestLimits = RequestLimits()) {
        self.provider = provider
        self.limits = limits
    }

    /// Adds the API's routes to `router`.
    public func addRoutes(to router: Router<Context>) {
        MetricsAPIRoutes.add(prefix: MetricsRequest.prefix, to: router, get: self.get)
    }

    /// Every GET under the group prefix.
    @Sendable func get(_ request: Request, context: Context) async throws -> Response {
        guard case .customMetrics(let parsed) = context.target(of: request, limits: limits) else {
            return MetricsAPIRoutes.notServed(context.target(of: request, limits: limits))
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
}
