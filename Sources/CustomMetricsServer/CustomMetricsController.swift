import CustomMetricsAPI
import Hummingbird

/// Serves `custom.metrics.k8s.io`: the group document, discovery for each version, and metric values,
/// for any provider.
///
/// The request arrives parsed (`RequestTarget`, from the raw URI, so percent-encoding such as `%2A` and
/// `+` is decoded exactly once, segment by segment).
public struct CustomMetricsController<Provider: CustomMetricsProvider>: MetricsAPIController {
    let provider: Provider

    public init(provider: Provider) {
        self.provider = provider
    }

    public static var prefix: String { MetricsRequest.prefix }

    public func request(in target: RequestTarget) -> MetricsRequest? {
        if case .customMetrics(let parsed) = target { parsed } else { nil }
    }

    public func answer(_ request: MetricsRequest, timeout: Duration) async throws(MetricsError) -> Response {
        switch request {
        case .group:
            return JSONResponse.make(APIGroup())
        case .discovery(let version):
            return JSONResponse.make(APIResourceList(version: version, metrics: provider.listMetrics()))
        case .object(let version, let object, let metric):
            let value = try await withRequestTimeout(timeout) { [provider] () async throws(MetricsError) in
                try await provider.metric(for: object, metric: metric)
            }
            return JSONResponse.make(MetricValueList(version: version, items: [value]))
        case .selection(let version, let resource, let namespace, let selector, let metric):
            let bytes = try await withRequestTimeout(timeout) { [provider] () async throws(MetricsError) in
                try await provider.encodedMetrics(version: version, resource: resource, namespace: namespace, selector: selector, metric: metric)
            }
            return JSONResponse.make(encoded: bytes)
        }
    }
}
