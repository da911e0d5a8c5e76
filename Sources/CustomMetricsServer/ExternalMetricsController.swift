import CustomMetricsAPI
import Hummingbird

/// Serves `external.metrics.k8s.io/v1beta1`: the group document, discovery, and a metric's values in a
/// namespace, for any provider.
public struct ExternalMetricsController<Provider: ExternalMetricsProvider>: MetricsAPIController {
    let provider: Provider

    public init(provider: Provider) {
        self.provider = provider
    }

    public static var prefix: String { ExternalMetricsRequest.prefix }

    public func request(in target: RequestTarget) -> ExternalMetricsRequest? {
        if case .externalMetrics(let parsed) = target { parsed } else { nil }
    }

    public func answer(_ request: ExternalMetricsRequest, timeout: Duration) async throws(MetricsError) -> Response {
        switch request {
        case .group:
            return JSONResponse.make(ExternalAPIGroup())
        case .discovery:
            return JSONResponse.make(ExternalAPIResourceList(metrics: provider.listExternalMetrics()))
        case .values(let namespace, let metric, let selector):
            let values = try await withRequestTimeout(timeout) { [provider] () async throws(MetricsError) in
                try await provider.externalMetrics(namespace: namespace, metric: metric, selector: selector)
            }
            return JSONResponse.make(ExternalMetricValueList(items: values))
        }
    }
}
