import Foundation
import MetricRules
import NIOCore

/// Decoding of the `/api/v1/query` answer: the success envelope with a vector, or the error envelope
/// `{status: "error", errorType, error}` that Prometheus sends with 4xx/5xx.
enum PrometheusResponse {
    private struct Envelope: Decodable {
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

    static func decode(status: UInt, body: ByteBuffer) throws(PrometheusQueryError) -> [InstantSample] {
        let envelope: Envelope
        do {
            envelope = try JSONDecoder().decode(Envelope.self, from: Data(body.readableBytesView))
        } catch {
            let kind: PrometheusQueryError.Kind = [502, 503, 504].contains(status) ? .unreachable : .malformedResponse
            let detail = kind == .unreachable ? "HTTP \(status) without a Prometheus answer" : "undecodable answer (HTTP \(status)): \(error)"
            throw PrometheusQueryError(kind, detail)
        }
        if envelope.status == "error" || !(200..<300).contains(status) {
            let type = envelope.errorType ?? "unknown"
            let message = envelope.error ?? "no message"
            let kind: PrometheusQueryError.Kind = type == "timeout" ? .timeout : .rejected
            throw PrometheusQueryError(kind, "HTTP \(status) \(type): \(message)")
        }
        guard envelope.status == "success", let data = envelope.data else {
            throw PrometheusQueryError(.malformedResponse, "status \"\(envelope.status)\" without data")
        }
        guard data.resultType == "vector" else {
            throw PrometheusQueryError(.malformedResponse, "result type \"\(data.resultType)\" where a vector was expected")
        }
        return (data.result ?? []).map {
            InstantSample(labels: $0.metric, timestamp: $0.value.timestamp, value: $0.value.value)
        }
    }
}
