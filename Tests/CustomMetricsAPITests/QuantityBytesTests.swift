@testable import CustomMetricsAPI
import Testing

/// `Quantity(decimal:)` reads ASCII on its bytes; the character-by-character reading is the reference.
@Suite("Quantity: the byte reading gives the reference's answer")
struct QuantityBytesTests {
    static let edges = [
        "0", "-0", "+0", "0.0", "0.0005", "0.0004999", "0.0015", "-0.0005", "0.7895263157894737", "3.3333333333333335",
        "1.5e+06", "1.5E-06", "9.9995", "99.9995", "999999.9995", "1e400", "1e401", "1e-400", "1.", ".5", "-.5", "+.5e-2",
        ".", "-", "+", "", "e5", "1e", "1e+", "1e2e3", "1..2", "1.2.3", "NaN", "+Inf", "-Inf", "1 ", " 1", "1\r\n",
        "12345678901234567890.123456789", "0000.000100", "5e-4", "4.9999e-4", "1e0004", "1e00004", "١", "1\u{301}",
        "-\u{301}1", "1é5", "0x10", "1_000",
    ]

    @Test(arguments: edges)
    func edgeCases(text: String) {
        #expect(Quantity(decimal: text) == Quantity(characters: text), "\(text)")
    }

    /// 20,000 texts from a seeded generator over the characters a number is made of.
    @Test func generatedTexts() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let alphabet = Array("0123456789012345678901234567890123456789.-+eE9")
        var mismatches: [String] = []
        for _ in 0..<20_000 {
            let length = Int(next() % 24)
            let text = String((0..<length).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] })
            if Quantity(decimal: text) != Quantity(characters: text) { mismatches.append(text) }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }
}
