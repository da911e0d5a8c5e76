import Foundation
import MetricRules
import NIOCore

/// Decoding of the `/api/v1/query` answer: the success envelope with a vector, or the error envelope
/// `{status: "error", errorType, error}` that Prometheus sends with 4xx/5xx.
enum PrometheusResponse {
    private struct Envelope: Decodable, PrometheusEnvelope {
        var status: String
        var data: DataField?
        var errorType: String?
        var error: String?
    }

    private struct DataField: Decodable {
        var resultType: String
        var result: [Element]?
    }

    private struct Element: Decodable {
        var metric: [String: String]
        var value: SamplePair
    }

    private struct RangeElement: Decodable {
        var metric: [String: String]
        /// Optional so that a vector (with `value`) decodes far enough to be named in the error.
        var values: [SamplePair]?
    }

    /// `[<unix seconds as a number>, "<value as a string>"]`.
    private struct SamplePair: Decodable {
        var timestamp: Double
        var value: String

        init(from decoder: any Decoder) throws {
            var container = try decoder.unkeyedContainer()
            timestamp = try container.decode(Double.self)
            value = try container.decode(String.self)
            guard container.isAtEnd else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "sample pair has more than two elements")
            }
        }
    }

    /// The samples of an instant query's answer: read straight from the bytes on the hot path
    /// (`VectorDecoder`), or, for anything else, decoded fully so that the error says what was wrong.
    static func decode(status: UInt, body: ByteBuffer) throws(PrometheusQueryError) -> [InstantSample] {
        if (200..<300).contains(status), let samples = body.withUnsafeReadableBytes(VectorDecoder.decode) {
            return samples
        }
        return try decodeFully(status: status, body: body)
    }

    /// `decode` with `JSONDecoder`: every error envelope and malformed answer is named.
    static func decodeFully(status: UInt, body: ByteBuffer) throws(PrometheusQueryError) -> [InstantSample] {
        let data = try successData(Envelope.self, status: status, body: body)
        guard data.resultType == "vector" else {
            throw PrometheusQueryError(.malformedResponse, "result type \"\(data.resultType)\" where a vector was expected")
        }
        return (data.result ?? []).map {
            InstantSample(labels: $0.metric, timestamp: $0.value.timestamp, value: $0.value.value)
        }
    }

    /// The series of a `query_range` answer; anything but a matrix is `.malformedResponse`.
    static func decodeMatrix(status: UInt, body: ByteBuffer) throws(PrometheusQueryError) -> [RangeSeries] {
        let data = try successData(MatrixEnvelope.self, status: status, body: body)
        guard data.resultType == "matrix" else {
            throw PrometheusQueryError(.malformedResponse, "result type \"\(data.resultType)\" where a matrix was expected")
        }
        return (data.result ?? []).map { element in
            RangeSeries(labels: element.metric, samples: (element.values ?? []).map { ($0.timestamp, $0.value) })
        }
    }

    /// The label sets of a `/api/v1/series` answer.
    static func decodeSeries(status: UInt, body: ByteBuffer) throws(PrometheusQueryError) -> [[String: String]] {
        try successData(SeriesEnvelope.self, status: status, body: body)
    }

    private struct SeriesEnvelope: Decodable, PrometheusEnvelope {
        var status: String
        var data: [[String: String]]?
        var errorType: String?
        var error: String?
    }

    private struct MatrixEnvelope: Decodable, PrometheusEnvelope {
        var status: String
        var data: MatrixData?
        var errorType: String?
        var error: String?
    }

    private struct MatrixData: Decodable {
        var resultType: String
        var result: [RangeElement]?
    }

    /// The `data` of a success envelope, or the error the envelope or status says.
    private static func successData<E: PrometheusEnvelope>(_ type: E.Type, status: UInt, body: ByteBuffer) throws(PrometheusQueryError) -> E.Payload {
        if status == 401 || status == 403 {
            // The body is not kept: a proxy in front of the store (vmauth, an OAuth proxy) may echo the
            // credential it refused, and its text could carry line breaks into the log.
            throw PrometheusQueryError(.unauthorized, "HTTP \(status): the credentials were refused")
        }
        let envelope: E
        do {
            envelope = try JSONDecoder().decode(E.self, from: Data(body.readableBytesView))
        } catch {
            // The status decides first: only a 2xx answer that cannot be read is "unusable".
            switch status {
            case 200..<300:
                throw PrometheusQueryError(.malformedResponse, "undecodable answer (HTTP \(status)): \(error)")
            case 502, 503, 504:
                throw PrometheusQueryError(.unreachable, "HTTP \(status) without a Prometheus answer")
            default:
                throw PrometheusQueryError(.rejected, "HTTP \(status) without a Prometheus answer")
            }
        }
        if envelope.status == "error" || !(200..<300).contains(status) {
            let type = envelope.errorType ?? "unknown"
            let message = envelope.error ?? "no message"
            let kind: PrometheusQueryError.Kind
            if type == "timeout" {
                kind = .timeout
            } else if [502, 503, 504].contains(status) || type == "unavailable" {
                // Prometheus not ready yet, or a Thanos/Mimir store down: nothing was evaluated.
                kind = .unreachable
            } else {
                kind = .rejected
            }
            throw PrometheusQueryError(kind, "HTTP \(status) \(type): \(message)")
        }
        guard envelope.status == "success", let data = envelope.data else {
            throw PrometheusQueryError(.malformedResponse, "status \"\(envelope.status)\" without data")
        }
        return data
    }
}

/// The fields every Prometheus answer shares; `data` differs by endpoint.
private protocol PrometheusEnvelope: Decodable {
    associatedtype Payload
    var status: String { get }
    var data: Payload? { get }
    var errorType: String? { get }
    var error: String? { get }
}

/// One series of a range query: its labels and its samples in time order, values as Prometheus' text.
public struct RangeSeries: Sendable {
    public var labels: [String: String]
    public var samples: [(timestamp: Double, value: String)]

    public init(labels: [String: String], samples: [(timestamp: Double, value: String)]) {
        self.labels = labels
        self.samples = samples
    }
}
