import CustomMetricsAPI
import Hummingbird
import Synchronization

/// Serves `custom.metrics.k8s.io`: the group document, discovery for each version, and metric values,
/// for any provider.
///
/// The request arrives parsed (`RequestTarget`, from the raw URI, so percent-encoding such as `%2A` and
/// `+` is decoded exactly once, segment by segment).
public struct CustomMetricsController<Provider: CustomMetricsProvider>: MetricsAPIController {
    let provider: Provider
    /// The last discovery document of each version, with the metrics it was made from: the aggregator
    /// and every HPA sync ask for it, and it changes only with the rules.
    private let discovery = DiscoveryDocuments()

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
            return JSONResponse.make(encoded: discoveryBytes(version))
        case .object(let version, let object, let metric):
            let value = try await withRequestTimeout(timeout) { [provider] () async throws(MetricsError) in
                try await provider.metric(for: object, metric: metric)
            }
            return JSONResponse.make(MetricValueList(version: version, items: [value]))
        case .selection(let version, let resource, let namespace, let selector, let metric):
            if let kept = provider.keptMetrics(version: version, resource: resource, namespace: namespace, selector: selector, metric: metric) {
                return JSONResponse.make(encoded: kept)
            }
            let bytes = try await withRequestTimeout(timeout) { [provider] () async throws(MetricsError) in
                try await provider.encodedMetrics(version: version, resource: resource, namespace: namespace, selector: selector, metric: metric)
            }
            return JSONResponse.make(encoded: bytes)
        }
    }

    private func discoveryBytes(_ version: APIVersion) -> [UInt8] {
        let metrics = provider.listMetrics()
        if let kept = discovery.kept.withLock({ $0[version] }), kept.metrics == metrics { return kept.bytes }
        let bytes = JSONResponse.bytes(APIResourceList(version: version, metrics: metrics))
        discovery.kept.withLock { $0[version] = (metrics, bytes) }
        return bytes
    }
}

/// The last discovery document of each version and the metrics it lists.
final class DiscoveryDocuments: Sendable {
    let kept = Mutex<[APIVersion: (metrics: [MetricInfo], bytes: [UInt8])]>([:])
}
