import Foundation

/// A finite decimal read byte by byte: sign, the digits around the point, and the exponent.
struct ReferenceDecimal: CustomStringConvertible {
    var negative: Bool
    var whole: [UInt8]
    var fraction: [UInt8]
    var exponent: Int

    init?(_ text: String) {
        var bytes = Array(text.utf8)[...]
        let zero = UInt8(ascii: "0"), nine = UInt8(ascii: "9")
        func digits() -> [UInt8] {
            let run = bytes.prefix { (zero...nine).contains($0) }
            bytes = bytes.dropFirst(run.count)
            return Array(run)
        }
        negative = false
        if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            negative = sign == UInt8(ascii: "-")
            bytes = bytes.dropFirst()
        }
        whole = digits()
        fraction = []
        if bytes.first == UInt8(ascii: ".") {
            bytes = bytes.dropFirst()
            fraction = digits()
        }
        guard !whole.isEmpty || !fraction.isEmpty else { return nil }
        exponent = 0
        if let e = bytes.first, e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            var exponentNegative = false
            if let sign = bytes.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
                exponentNegative = sign == UInt8(ascii: "-")
                bytes = bytes.dropFirst()
            }
            let exponentDigits = digits()
            guard (1...4).contains(exponentDigits.count) else { return nil }
            let value = exponentDigits.reduce(0) { $0 * 10 + Int($1 - zero) }
            guard value <= 400 else { return nil }
            exponent = exponentNegative ? -value : value
        }
        guard bytes.isEmpty else { return nil }
    }

    var description: String {
        (negative ? "-" : "") + String(decoding: whole, as: UTF8.self) + "." + String(decoding: fraction, as: UTF8.self)
            + "e\(exponent)"
    }

    /// The value in milli-units, rounded half away from zero: the point moves `exponent + 3` places right,
    /// digits after it are cut, and the first cut digit decides whether the magnitude goes up by one.
    func roundedMilli() -> (digits: String, negative: Bool) {
        let all = whole + fraction
        let point = whole.count + exponent + 3
        var kept: [UInt8]
        var roundUp = false
        if point >= all.count {
            kept = all + Array(repeating: UInt8(ascii: "0"), count: point - all.count)
        } else if point <= 0 {
            kept = []
            roundUp = point == 0 && all[0] >= UInt8(ascii: "5")
        } else {
            kept = Array(all[..<point])
            roundUp = all[point] >= UInt8(ascii: "5")
        }
        kept = Array(kept.drop { $0 == UInt8(ascii: "0") })
        if roundUp {
            var index = kept.count - 1
            while index >= 0 && kept[index] == UInt8(ascii: "9") {
                kept[index] = UInt8(ascii: "0")
                index -= 1
            }
            if index >= 0 { kept[index] += 1 } else { kept.insert(UInt8(ascii: "1"), at: 0) }
        }
        let digits = kept.isEmpty ? "0" : String(decoding: kept, as: UTF8.self)
        return (digits, negative && digits != "0")
    }

    /// The same rounding with Foundation's `Decimal` (`.plain` rounds half away from zero), for inputs with
    /// at most 18 digits and a small exponent, where `Decimal` is exact.
    func roundedMilliWithFoundation() -> String? {
        let all = whole + fraction
        guard all.count <= 18, abs(exponent) <= 60 else { return nil }
        let significand = all.reduce(UInt64(0)) { $0 * 10 + UInt64($1 - UInt8(ascii: "0")) }
        var value = Decimal(sign: negative ? .minus : .plus, exponent: exponent - fraction.count + 3,
                            significand: Decimal(significand))
        var rounded = Decimal()
        NSDecimalRound(&rounded, &value, 0, .plain)
        guard rounded.isFinite else { return nil }
        var digits = Array(rounded.magnitude.description)
        if let dot = digits.firstIndex(of: ".") { digits = Array(digits[..<dot]) }
        let magnitude = String(digits)
        return rounded.isZero || magnitude == "0" ? "0" : (rounded < 0 ? "-" : "") + magnitude
    }
}
