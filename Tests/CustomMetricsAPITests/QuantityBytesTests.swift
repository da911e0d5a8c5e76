import CustomMetricsAPI
import Testing

/// `Quantity(decimal:)` reads bytes; `ReferenceQuantity`, an independent reading on characters with
/// string arithmetic (what the adapter did until it showed in profiles), must agree on every text.
@Suite("Quantity: the byte reading gives the reference's answer")
struct QuantityBytesTests {
    static let edges = [
        "0", "-0", "+0", "0.0", "0.0005", "0.0004999", "0.0015", "-0.0005", "0.7895263157894737", "3.3333333333333335",
        "1.5e+06", "1.5E-06", "9.9995", "99.9995", "999999.9995", "1e400", "1e401", "1e-400", "1.", ".5", "-.5", "+.5e-2",
        ".", "-", "+", "", "e5", "1e", "1e+", "1e2e3", "1..2", "1.2.3", "NaN", "+Inf", "-Inf", "1 ", " 1", "1\r\n",
        "12345678901234567890.123456789", "0000.000100", "5e-4", "4.9999e-4", "1e0004", "1e00004", "١", "1\u{301}",
        "-\u{301}1", "1é5", "0x10", "1_000",
    ]

    /// What a reading gives: the sign and the milli digits, or nil.
    static func read(_ text: String) -> String? {
        Quantity(decimal: text).map { ($0.isNegative ? "-" : "+") + $0.milliDigits }
    }

    @Test(arguments: edges)
    func edgeCases(text: String) {
        #expect(Self.read(text) == ReferenceQuantity.read(text), "\(text)")
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
            if Self.read(text) != ReferenceQuantity.read(text) { mismatches.append(text) }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }

    /// The canonical spelling, written on bytes, matches the reference's spelling with string arithmetic
    /// for every milli value from 0 to 100,000, for powers of ten up to 10^30 and for their negatives.
    @Test func printing() {
        var values = (0...100_000).map { String($0) }
        values += (0...30).flatMap { ["1" + String(repeating: "0", count: $0), "12" + String(repeating: "0", count: $0)] }
        var mismatches: [String] = []
        for digits in values {
            for negative in [false, true] {
                let text = (negative ? "-" : "") + digits + "e-3"
                guard let quantity = Quantity(decimal: text) else {
                    mismatches.append("\(text): not read")
                    continue
                }
                let expected = ReferenceQuantity.spell(negative: quantity.isNegative, milliDigits: quantity.milliDigits)
                if quantity.description != expected { mismatches.append("\(text): \(quantity.description) != \(expected)") }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(10))")
    }
}

/// Reads a decimal character by character: sign, digits and a base-10 exponent, then rounds to the
/// nearest milli (half away from zero) with string arithmetic. Returns the sign ("-" or "+") and the
/// milli digits without leading zeros, or nil.
enum ReferenceQuantity {
    /// `resource.Quantity.String()` for DecimalSI with string arithmetic: trailing zeros into a base-10
    /// exponent, rounded down to a multiple of three and written as its SI suffix.
    static func spell(negative: Bool, milliDigits: String) -> String {
        if milliDigits == "0" { return "0" }
        var mantissa = Substring(milliDigits)
        var exponent = -3
        while mantissa.count > 1, mantissa.last == "0" {
            mantissa = mantissa.dropLast()
            exponent += 1
        }
        let rounded = Int((Double(exponent) / 3).rounded(.down)) * 3
        let suffixes = [-3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P", 18: "E"]
        let suffix = suffixes[rounded] ?? "e\(rounded)"
        return (negative ? "-" : "") + String(mantissa) + String(repeating: "0", count: exponent - rounded) + suffix
    }

    static func read(_ text: String) -> String? {
        guard let (negative, significant, exponent) = parse(text) else { return nil }
        let shift = exponent + 3
        var digits = significant
        if shift >= 0 {
            if digits != "0" { digits += String(repeating: "0", count: shift) }
        } else if -shift > digits.count {
            digits = "0"
        } else {
            let keepCount = digits.count + shift
            let firstDropped = digits[digits.index(digits.startIndex, offsetBy: keepCount)]
            var kept = keepCount == 0 ? "0" : String(digits.prefix(keepCount))
            if firstDropped >= "5" { kept = incremented(kept) }
            digits = kept
        }
        let trimmed = digits.drop { $0 == "0" }
        digits = trimmed.isEmpty ? "0" : String(trimmed)
        return (negative && digits != "0" ? "-" : "+") + digits
    }

    /// (negative, significant digits without leading zeros or "0", exponent), or nil.
    static func parse(_ text: String) -> (Bool, String, Int)? {
        var rest = Substring(text)
        var negative = false
        if rest.first == "-" || rest.first == "+" {
            negative = rest.first == "-"
            rest = rest.dropFirst()
        }
        var mantissa = rest
        var exponent = 0
        if let e = rest.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = rest[..<e]
            var exponentText = rest[rest.index(after: e)...]
            var exponentNegative = false
            if exponentText.first == "-" || exponentText.first == "+" {
                exponentNegative = exponentText.first == "-"
                exponentText = exponentText.dropFirst()
            }
            guard !exponentText.isEmpty, exponentText.count <= 4, exponentText.allSatisfy(isDigit),
                let value = Int(exponentText), value <= 400
            else { return nil }
            exponent = exponentNegative ? -value : value
        }
        var whole = mantissa
        var fraction: Substring = ""
        if let dot = mantissa.firstIndex(of: ".") {
            whole = mantissa[..<dot]
            fraction = mantissa[mantissa.index(after: dot)...]
        }
        guard !(whole.isEmpty && fraction.isEmpty), whole.allSatisfy(isDigit), fraction.allSatisfy(isDigit) else { return nil }
        let all = (whole + fraction).drop { $0 == "0" }
        return (negative, all.isEmpty ? "0" : String(all), exponent - fraction.count)
    }

    static func isDigit(_ c: Character) -> Bool {
        c.asciiValue.map { $0 >= 0x30 && $0 <= 0x39 } ?? false
    }

    static func incremented(_ digits: String) -> String {
        var bytes = Array(digits.utf8)
        var index = bytes.count - 1
        while index >= 0 {
            if bytes[index] == UInt8(ascii: "9") {
                bytes[index] = UInt8(ascii: "0")
                index -= 1
            } else {
                bytes[index] += 1
                return String(decoding: bytes, as: UTF8.self)
            }
        }
        return "1" + String(decoding: bytes, as: UTF8.self)
    }
}
