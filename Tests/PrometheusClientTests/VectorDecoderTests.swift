import Foundation
import MetricRules
import NIOCore
import Testing

@testable import PrometheusClient

/// The hot path's decoder agrees with the full `JSONDecoder` path on the real Prometheus' bytes and on
/// every shape the API allows, and declines what it does not read (the full path then names the error).
@Suite("VectorDecoder: the vector answer read straight from its bytes")
struct VectorDecoderTests {
    static func fast(_ text: String) -> [InstantSample]? {
        Array(text.utf8).withUnsafeBytes { VectorDecoder.decode($0) }
    }

    static func full(_ text: String) throws -> [InstantSample] {
        try PrometheusResponse.decodeFully(status: 200, body: ByteBuffer(string: text))
    }

    /// Answers of Prometheus 2.42 to the adapter's queries, captured from the real binary.
    @Test(arguments: ["vector-ratio", "vector-nan", "vector-series", "vector-empty"])
    func realPrometheusAnswers(name: String) throws {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"))
        let text = try String(contentsOf: url, encoding: .utf8)
        let fast = try #require(Self.fast(text))
        #expect(fast == (try Self.full(text)))
    }

    @Test func readsEveryDetailOfASample() throws {
        let text = #"""
            { "status" : "success", "warnings": ["w"], "data": { "result": [
              {"value": [1795000000.5, "+Inf"], "metric": {"pod": "a\"b\\c\/d\u00e9\ud83d\ude00\n", "__name__": "x"}}
            ], "resultType": "vector", "stats": {"timings": {"evalTotalTime": 1e-3}} }, "infos": null }
            """#
        #expect(Self.fast(text) == [
            InstantSample(labels: ["pod": "a\"b\\c/d\u{e9}\u{1F600}\n", "__name__": "x"], timestamp: 1_795_000_000.5, value: "+Inf"),
        ])
        #expect(Self.fast(text) == (try Self.full(text)))
    }

    @Test(arguments: [
        #"{"status":"error","errorType":"bad_data","error":"parse error"}"#,
        #"{"status":"success","data":{"resultType":"matrix","result":[]}}"#,
        #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,2]}]}}"#,
        #"{"status":"success","status":"success","data":{"resultType":"vector","result":[]}}"#,
        #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1","a":"2"},"value":[1,"2"]}]}}"#,
        #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[01,"2"]}]}}"#,
        #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"\ud800"},"value":[1,"2"]}]}}"#,
        #"{"status":"success","data":{"resultType":"vector","result":[]}} trailing"#,
        #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"2",3]}]}}"#,
        "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{\"a\":\"\u{1}\"},\"value\":[1,\"2\"]}]}}",
        // Timestamps out of Double's range: JSONDecoder refuses both, so the fast path does too.
        #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1796200508.1e-3696,"2"]}]}}"#,
        #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1e400,"2"]}]}}"#,
    ])
    func declinesWhatItDoesNotRead(text: String) {
        #expect(Self.fast(text) == nil)
    }

    @Test func invalidUTF8IsDeclined() {
        let bytes: [UInt8] = Array(#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":""#.utf8)
            + [0xFF] + Array(#""},"value":[1,"2"]}]}}"#.utf8)
        #expect(bytes.withUnsafeBytes { VectorDecoder.decode($0) } == nil)
    }

    @Test(arguments: ["0e-3696", "-0.000e-5000", "1e-320"])
    func readsTinyTimestampsAsJSONDecoderDoes(timestamp: String) throws {
        let text = #"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":["# + timestamp + #","2"]}]}}"#
        #expect(Self.fast(text) != nil)
        #expect(Self.fast(text) == (try Self.full(text)))
    }

    /// The exact path for short decimals gives `Double(String)`'s value bit for bit, and declines what it
    /// cannot compute exactly (exponents, more than 15 significant digits).
    @Test func shortDecimalsAreReadExactlyAsDoubleReadsThem() {
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        var texts = ["0", "-0", "0.0", "1795000000.123", "1795000000.5", "0.1", "0.3", "999999999999999", "-123.456",
                     "0.000000000000000000001", "0.0000000000000000000001", "9007199254740993", "1234567890123456", "1e5", "1.5E3"]
        for _ in 0..<20_000 {
            // Up to 9 + 2 + 4 digits, so most take the exact path; a tenth have more and must decline.
            let integer = String(next() % 1_000_000_000)
            let zeros = String(repeating: "0", count: Int(next() % 3))
            let fraction = String(next() % 10 == 0 ? next() % 100_000_000 : next() % 10_000)
            texts.append((next() % 5 == 0 ? "-" : "") + integer + "." + zeros + fraction)
        }
        var mismatches: [String] = []
        var exact = 0
        for text in texts {
            let value = Array(text.utf8).withUnsafeBytes { JSONReader.exactDouble($0) }
            if let value {
                exact += 1
                if value.bitPattern != Double(text)!.bitPattern { mismatches.append(text) }
            } else if text.filter(\.isNumber).drop(while: { $0 == "0" }).count <= 15, !text.contains("e"), !text.contains("E"), text.split(separator: ".").last.map({ $0.count <= 22 }) ?? true {
                mismatches.append("declined \(text)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
        #expect(exact > 15_000)
    }

    @Test func nullResultIsEmpty() throws {
        let text = #"{"status":"success","data":{"resultType":"vector","result":null}}"#
        #expect(Self.fast(text) == [])
        #expect(try Self.full(text) == [])
    }
}
