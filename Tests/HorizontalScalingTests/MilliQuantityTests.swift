import Foundation
import HorizontalScaling
import Testing

/// Quantities as users write them in HPA manifests, reduced to the milli-units the controller
/// compares (`Quantity.MilliValue()`, which rounds sub-milli digits away from zero).
struct MilliQuantityTests {
    struct Row: CustomTestStringConvertible, Sendable {
        let text: String
        let milli: Int64
        var testDescription: String { "\"\(text)\" = \(milli)m" }
    }

    @Test(arguments: [
        Row(text: "1000m", milli: 1000),
        Row(text: "1", milli: 1000),
        Row(text: "1.5", milli: 1500),
        Row(text: "1.1", milli: 1100),
        Row(text: "0.1", milli: 100),
        Row(text: ".5", milli: 500),
        Row(text: "5.", milli: 5000),
        Row(text: "2k", milli: 2_000_000),
        Row(text: "500M", milli: 500_000_000_000),
        Row(text: "3G", milli: 3_000_000_000_000),
        Row(text: "1Ki", milli: 1_024_000),
        Row(text: "1.5Mi", milli: 1_572_864_000),
        Row(text: "1e3", milli: 1_000_000),
        Row(text: "15E-1", milli: 1500),
        Row(text: "1P", milli: 1_000_000_000_000_000_000),
        Row(text: "+250m", milli: 250),
        Row(text: "-2", milli: -2000),
        Row(text: "0", milli: 0),
        Row(text: "-0", milli: 0),
        Row(text: "000123m", milli: 123),
        // MilliValue rounds up (away from zero) below a milli: 1.5m is 2m, 1n is 1m.
        Row(text: "1500u", milli: 2),
        Row(text: "1001u", milli: 2),
        Row(text: "1000u", milli: 1),
        Row(text: "1n", milli: 1),
        Row(text: "1.0001", milli: 1001),
        Row(text: "-1.0001", milli: -1001),
        Row(text: "999999999999999m", milli: 999_999_999_999_999),
    ])
    func parses(_ row: Row) throws {
        #expect(try MilliQuantity(parsing: row.text).milliValue == row.milli)
    }

    /// Malformed text, and quantities whose milli-value overflows 64 bits (`1E` is 10^21 milli).
    @Test(arguments: ["", "m", "1.2.3", "1 ", " 1", "1mm", "1Kii", "1e", "1e+", "abc", "1x", "++1", "1E99", "1E", "12345678901234567890123"])
    func rejects(_ text: String) {
        #expect(throws: QuantityParseError.self) { try MilliQuantity(parsing: text) }
    }

    @Test func approximateValueKeepsDigitsBelowAMilli() throws {
        #expect(try MilliQuantity(parsing: "0.0125").approximateValue == 0.0125)
        #expect(try MilliQuantity(parsing: "50m").approximateValue == 0.05)
        #expect(try MilliQuantity(parsing: "0.0125").milliValue == 13)
    }

    @Test func canonicalDescription() {
        #expect(MilliQuantity(milliValue: 1500).description == "1500m")
        #expect(MilliQuantity(milliValue: 2000).description == "2")
        #expect(MilliQuantity(milliValue: 0).description == "0")
    }

    private struct Box: Decodable { let q: MilliQuantity }

    /// YAML and JSON let a user write `averageValue: 2` or `1.5` unquoted.
    @Test(arguments: [
        (#"{"q": "1000m"}"#, Int64(1000)),
        (#"{"q": 2}"#, Int64(2000)),
        (#"{"q": 1.1}"#, Int64(1100)),
        (#"{"q": 0.05}"#, Int64(50)),
    ])
    func decodesStringsAndNumbers(json: String, milli: Int64) throws {
        let box = try JSONDecoder().decode(Box.self, from: Data(json.utf8))
        #expect(box.q.milliValue == milli)
    }

    @Test func decodingReportsTheBadQuantity() {
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(Box.self, from: Data(#"{"q": "1.5x"}"#.utf8))
        }
    }
}
