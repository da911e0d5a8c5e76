/// A Kubernetes resource quantity, held exactly as a decimal and printed in canonical form.
///
/// The HPA parses every `value` with `resource.ParseQuantity` and compares in milli-units, so the adapter
/// rounds each sample to the nearest milli (half away from zero) and prints it the way Kubernetes itself
/// would: trailing zeros move into a base-10 exponent, the exponent is rounded down to a multiple of
/// three and written as a decimal SI suffix (`1500m`, `2`, `1k`, `1234567m`).
///
/// Rounding works on the decimal text Prometheus sends (`"1.0005"`), not on a binary `Double`, so what
/// the user reads in Prometheus is what gets rounded: no `0.1 + 0.2` surprises.
public struct Quantity: Sendable, Hashable, CustomStringConvertible {
    /// True for values below zero; never set for zero.
    public let isNegative: Bool
    /// The magnitude in milli-units, as decimal digits without leading zeros ("0" for zero).
    public let milliDigits: String

    /// The quantity worth `milli` thousandths.
    public init(milli: Int64) {
        self.isNegative = milli < 0
        self.milliDigits = String(milli.magnitude)
    }

    /// Parses a Prometheus sample value (`"12"`, `"-0.5"`, `"1.5e+06"`, `"3.3333333333333335"`) and
    /// rounds it to the nearest milli.
    ///
    /// - Returns: `nil` for `NaN`, `±Inf` and anything that is not a finite decimal number.
    public init?(decimal text: some StringProtocol) {
        // Every character of a decimal is ASCII, so its bytes are read; a test compares this with an
        // independent character-by-character reading on edge cases and generated texts.
        guard let (negative, milli) = Self.milliDigits(ascii: text.utf8) else { return nil }
        self.isNegative = negative && milli != "0"
        self.milliDigits = milli
    }

    /// Whether the quantity is exactly zero.
    public var isZero: Bool { milliDigits == "0" }

    /// The value in milli-units when it fits in 64 bits, as the HPA computes with it.
    public var milliValue: Int64? {
        guard let magnitude = Int64(milliDigits) else { return nil }
        return isNegative ? -magnitude : magnitude
    }

    /// The canonical Kubernetes spelling (`resource.Quantity.String()` for the DecimalSI format).
    public var description: String {
        var text: [UInt8] = []
        appendDescription(to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    /// Appends `description`'s bytes, written on the ASCII digits: every item of every answer is printed
    /// here, straight into the answer.
    public func appendDescription(to out: inout [UInt8]) {
        if isZero {
            out.append(UInt8(ascii: "0"))
            return
        }
        // Strip factors of ten from the milli digits into the exponent, then round the exponent down to a
        // multiple of three, moving the rest back into the mantissa as zeros.
        let digits = milliDigits.utf8
        // Not zero, so some digit is not "0".
        let last = digits.lastIndex { $0 != UInt8(ascii: "0") } ?? digits.startIndex
        let kept = digits.distance(from: digits.startIndex, to: last) + 1
        let exponent = digits.count - kept - 3
        let rounded = exponent >= 0 ? exponent / 3 * 3 : -((-exponent + 2) / 3 * 3)
        if isNegative { out.append(UInt8(ascii: "-")) }
        out.append(contentsOf: digits.prefix(kept))
        for _ in 0..<(exponent - rounded) { out.append(UInt8(ascii: "0")) }
        out.append(contentsOf: Self.suffix(forExponent: rounded).utf8)
    }

    private static func suffix(forExponent exponent: Int) -> String {
        switch exponent {
        case -9: "n"
        case -6: "u"
        case -3: "m"
        case 0: ""
        case 3: "k"
        case 6: "M"
        case 9: "G"
        case 12: "T"
        case 15: "P"
        case 18: "E"
        default: "e\(exponent)"
        }
    }

    /// `init?(decimal:)` on the bytes of a text: (negative, milli digits), or nil when the text is not a
    /// decimal of the form `[+-]digits[.digits][e[+-]digits]` with an exponent of at most 400 (Float64
    /// ends near 1e308: a longer one is not a number Prometheus can send).
    static func milliDigits(ascii text: some Collection<UInt8>) -> (Bool, String)? {
        let bytes = Array(text)
        var index = 0
        var negative = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
            negative = bytes[index] == UInt8(ascii: "-")
            index += 1
        }
        let isDigit: (UInt8) -> Bool = { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        // Digits of the mantissa without the point, and how many came after it.
        var digits: [UInt8] = []
        digits.reserveCapacity(bytes.count)
        var fractionCount = 0
        var sawPoint = false
        var sawDigit = false
        while index < bytes.count, bytes[index] != UInt8(ascii: "e"), bytes[index] != UInt8(ascii: "E") {
            let byte = bytes[index]
            if byte == UInt8(ascii: ".") {
                guard !sawPoint else { return nil }
                sawPoint = true
            } else {
                guard isDigit(byte) else { return nil }
                sawDigit = true
                if sawPoint { fractionCount += 1 }
                if !(digits.isEmpty && byte == UInt8(ascii: "0")) { digits.append(byte) }
            }
            index += 1
        }
        guard sawDigit else { return nil }
        var exponent = 0
        if index < bytes.count {
            index += 1  // the "e"
            var exponentNegative = false
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+") {
                exponentNegative = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            let count = bytes.count - index
            guard (1...4).contains(count), bytes[index...].allSatisfy(isDigit) else { return nil }
            let value = bytes[index...].reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
            guard value <= 400 else { return nil }
            exponent = exponentNegative ? -value : value
        }
        if digits.isEmpty { return (negative, "0") }
        // value = digits × 10^(exponent - fractionCount); milli shifts that by 3.
        let shift = exponent - fractionCount + 3
        if shift >= 0 {
            digits.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: shift))
        } else {
            let dropped = -shift
            guard dropped <= digits.count else { return (negative, "0") }
            let roundUp = dropped > 0 && digits[digits.count - dropped] >= UInt8(ascii: "5")
            digits.removeLast(dropped)
            if roundUp {
                var position = digits.count - 1
                while position >= 0, digits[position] == UInt8(ascii: "9") {
                    digits[position] = UInt8(ascii: "0")
                    position -= 1
                }
                if position >= 0 { digits[position] += 1 } else { digits.insert(UInt8(ascii: "1"), at: 0) }
            }
            if digits.isEmpty { return (negative, "0") }
        }
        return (negative, String(decoding: digits, as: UTF8.self))
    }
}
