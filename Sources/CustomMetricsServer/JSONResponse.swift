import CustomMetricsAPI
import Foundation
import Hummingbird

/// JSON bodies as Kubernetes clients read them: sorted keys, slashes unescaped, `application/json`.
enum JSONResponse {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let data: Data
        do {
            data = try encoder.encode(value)
        } catch {
            data = Data(#"{"apiVersion":"v1","code":500,"kind":"Status","message":"response encoding failed","metadata":{},"reason":"InternalError","status":"Failure"}"#.utf8)
            return Response(status: .internalServerError, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The JSON of a value that cannot fail to encode (the API's own documents).
    static func bytes(_ value: some Encodable) -> [UInt8] {
        (try? encoder.encode(value)).map(Array.init) ?? []
    }

    /// A `MetricValueList` through the hand-written writer (the hot path; same bytes as `make`).
    static func make(_ list: MetricValueList) -> Response {
        make(encoded: list.jsonBytes())
    }

    /// A 200 with JSON already encoded.
    static func make(encoded bytes: [UInt8]) -> Response {
        make(buffer: ByteBuffer(bytes: bytes))
    }

    /// A 200 with JSON already in a buffer.
    static func make(buffer: ByteBuffer) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer))
    }

    /// The `Status` for `error`, with its HTTP status code.
    static func status(_ error: MetricsError) -> Response {
        let status = Status(error)
        return make(status, status: .init(code: status.code))
    }
}
