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
    /// The response buffers of the answers the provider keeps: a kept answer is sent without a copy.
    private let keptBuffers = KeptBuffers()

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
            return JSONResponse.make(buffer: discoveryBuffer(version))
        case .object(let version, let object, let metric):
            let value = try await withRequestTimeout(timeout) { [provider] () async throws(MetricsError) in
                try await provider.metric(for: object, metric: metric)
            }
            return JSONResponse.make(MetricValueList(version: version, items: [value]))
        case .selection(let version, let resource, let namespace, let selector, let metric):
            if let kept = provider.keptMetrics(version: version, resource: resource, namespace: namespace, selector: selector, metric: metric) {
                return JSONResponse.make(buffer: keptBuffers.buffer(for: kept))
            }
            let bytes = try await withRequestTimeout(timeout) { [provider] () async throws(MetricsError) in
                try await provider.encodedMetrics(version: version, resource: resource, namespace: namespace, selector: selector, metric: metric)
            }
            return JSONResponse.make(encoded: bytes)
        }
    }

    private func discoveryBuffer(_ version: APIVersion) -> ByteBuffer {
        let metrics = provider.listMetrics()
        if let kept = discovery.kept.withLock({ $0[version] }), kept.metrics == metrics { return kept.buffer }
        let buffer = ByteBuffer(bytes: JSONResponse.bytes(APIResourceList(version: version, metrics: metrics)))
        discovery.kept.withLock { $0[version] = (metrics, buffer) }
        return buffer
    }
}

/// The last discovery document of each version and the metrics it lists.
final class DiscoveryDocuments: Sendable {
    let kept = Mutex<[APIVersion: (metrics: [MetricInfo], buffer: ByteBuffer)]>([:])
}

/// The response buffer made of each recently sent kept answer, so that sending the same kept answer again
/// copies nothing (a 100-pod answer is 21 KB; the copy was 5 % of a cached request's instructions).
///
/// An answer is recognised by its storage: each entry holds the answer's array itself, so while it is here
/// no other array can live at that address, and an array at that address is this answer (arrays share
/// storage only as unmodified copies). Bounded: 16 answers of at most 256 KiB, 1 MiB in all (each held
/// twice, as the array and as the buffer); the oldest goes first. A longer answer is copied per request,
/// which next to its own writing costs little.
final class KeptBuffers: Sendable {
    static let maximumAnswers = 16
    static let maximumAnswerBytes = 256 << 10
    static let maximumTotalBytes = 1 << 20

    private let entries = Mutex<[(answer: [UInt8], buffer: ByteBuffer)]>([])

    func buffer(for answer: [UInt8]) -> ByteBuffer {
        guard !answer.isEmpty, answer.count <= Self.maximumAnswerBytes else { return ByteBuffer(bytes: answer) }
        let address = answer.withUnsafeBufferPointer { $0.baseAddress }
        let found = entries.withLock { entries in
            entries.first { entry in
                entry.answer.count == answer.count && entry.answer.withUnsafeBufferPointer { $0.baseAddress } == address
            }?.buffer
        }
        if let found { return found }
        let buffer = ByteBuffer(bytes: answer)
        entries.withLock { entries in
            var total = entries.reduce(answer.count) { $0 + $1.answer.count }
            while !entries.isEmpty, entries.count >= Self.maximumAnswers || total > Self.maximumTotalBytes {
                total -= entries.removeFirst().answer.count
            }
            entries.append((answer, buffer))
        }
        return buffer
    }

    var count: Int { entries.withLock { $0.count } }
    var answerBytes: Int { entries.withLock { $0.reduce(0) { $0 + $1.answer.count } } }
}
