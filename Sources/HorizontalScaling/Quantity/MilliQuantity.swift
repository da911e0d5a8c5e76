/// A Kubernetes resource quantity (`1000m`, `1.5`, `2k`, `500M`, `1Gi`, `1e3`) reduced to the
/// milli-units the HPA controller computes with.
///
/// The controller never looks at a target as text: it calls `Quantity.MilliValue()`, which rounds
/// anything finer than a milli *away from zero* (`1.0001` → `1001m`), so this type does the same
/// rather than rounding to nearest. The exact decimal is parsed from the text, never through a
/// binary `Double`, so `1.1` is `1100m` and not `1100.0000000000001m` rounded up.
///
/// This module has no dependency beyond the standard library, so the parser is its own: it accepts
/// the grammar of `k8s.io/apimachinery/pkg/api/resource.ParseQuantity` (an optional sign, digits
/// with an optional fraction, then one decimal SI suffix `n u m k M G T P E`, one binary suffix
/// `Ki Mi Gi Ti Pi Ei`, or an exponent `e3`/`E-2`).
public struct MilliQuantity: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The value in thousandths, as `resource.Quantity.MilliValue()` returns it.
    public let milliValue: Int64
    /// The value as a `Double` (`AsApproximateFloat64`), used where the controller wants a
    /// fraction rather than milli-units, such as a `behavior` tolerance of `0.0125`.
    public let approximateValue: Double

    /// The quantity worth exactly `milliValue` thousandths.
    public init(milliValue: Int64) {
        self.milliValue = milliValue
        self.approximateValue = Double(milliValue) / 1000
    }

    /// Parses a quantity as a user writes it in a manifest.
    ///
    /// - Throws: `QuantityParseError` naming what is wrong with `text`.
    public init(parsing text: String) throws(QuantityParseError) {
        let parsed = try ParsedQuantity(text)
        self.milliValue = try parsed.milliValueRoundingAwayFromZero()
        self.approximateValue = parsed.isExactInMilli
            ? Double(milliValue) / 1000
            : parsed.approximateValue
    }

    public static func < (lhs: MilliQuantity, rhs: MilliQuantity) -> Bool {
        lhs.milliValue < rhs.milliValue
    }

    /// The value in a short canonical form: whole units without a suffix (`2`), otherwise
    /// milli-units (`1500m`).
    public var description: String {
        milliValue % 1000 == 0 ? "\(milliValue / 1000)" : "\(milliValue)m"
    }
}

extension MilliQuantity: Decodable {
    /// Decodes a quantity from a string (`"1000m"`) or from a bare YAML/JSON number (`2`, `1.5`).
    ///
    /// A number decoded as `Double` is re-read from its shortest round-trip spelling, which for
    /// manifests is the text the user wrote (`1.1` stays `1100m`).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text: String
        if let string = try? container.decode(String.self) {
            text = string
        } else if let integer = try? container.decode(Int64.self) {
            text = String(integer)
        } else {
            text = String(try container.decode(Double.self))
        }
        do {
            try self.init(parsing: text)
        } catch {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: error.description)
        }
    }
}

/// Why a quantity could not be parsed, with the offending text.
public struct QuantityParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The text that failed to parse.
    public let text: String
    /// What is wrong with it.
    public let problem: String

    public var description: String { "quantity \"\(text)\": \(problem)" }
}

/// The exact decimal behind a quantity: `±significand × 10^exponent × 1024^binaryPower`.
private struct ParsedQuantity {
    var isNegative: Bool
    var significand: UInt64
    var exponent: Int
    var binaryPower: Int
    var text: String

    /// Most significant digits accepted after leading and trailing zeros are dropped; more
    /// would not fit the 64-bit significand (and no manifest needs them).
    static let maximumDigits = 19

    init(_ text: String) throws(QuantityParseError) {
        self.text = text
        func failure(_ problem: String) -> QuantityParseError {
            QuantityParseError(text: text, problem: problem)
        }
        var rest = Substring(text)
        isNegative = rest.first == "-"
        if rest.first == "-" || rest.first == "+" { rest = rest.dropFirst() }

        let integerDigits = rest.prefix { $0.isASCII && $0.isNumber }
        rest = rest.dropFirst(integerDigits.count)
        var fractionDigits = Substring("")
        if rest.first == "." {
            rest = rest.dropFirst()
            fractionDigits = rest.prefix { $0.isASCII && $0.isNumber }
            rest = rest.dropFirst(fractionDigits.count)
        }
        guard !(integerDigits.isEmpty && fractionDigits.isEmpty) else {
            throw failure("expected a number")
        }
        (exponent, binaryPower) = try Self.suffix(rest, failure: failure)

        var digits = Substring(String(integerDigits) + String(fractionDigits))
        exponent -= fractionDigits.count
        while digits.last == "0" {
            digits = digits.dropLast()
            exponent += 1
        }
        digits = digits.drop { $0 == "0" }
        guard digits.count <= Self.maximumDigits, let value = UInt64(digits.isEmpty ? "0" : digits)
        else { throw failure("more than \(Self.maximumDigits) significant digits") }
        significand = value
        if significand == 0 { isNegative = false }
    }

    /// Decodes the suffix into a power of ten and a power of 1024.
    private static func suffix(
        _ suffix: Substring, failure: (String) -> QuantityParseError
    ) throws(QuantityParseError) -> (exponent: Int, binaryPower: Int) {
        let decimal: [Substring: Int] = [
            "": 0, "n": -9, "u": -6, "m": -3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18,
        ]
        let binary: [Substring: Int] = ["Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6]
        if let power = decimal[suffix] { return (power, 0) }
        if let power = binary[suffix] { return (0, power) }
        if let marker = suffix.first, marker == "e" || marker == "E" {
            let digits = suffix.dropFirst()
            let unsigned = digits.first == "+" || digits.first == "-" ? digits.dropFirst() : digits
            if !unsigned.isEmpty, unsigned.count <= 4, unsigned.allSatisfy({ $0.isASCII && $0.isNumber }),
                let power = Int(digits)
            {
                return (power, 0)
            }
        }
        throw failure("unknown suffix \"\(suffix)\"")
    }

    /// Whether the value has no digit below the milli place.
    var isExactInMilli: Bool { significand == 0 || exponent >= -3 }

    /// The value times 1000, rounded away from zero, as `Quantity.MilliValue()` does.
    func milliValueRoundingAwayFromZero() throws(QuantityParseError) -> Int64 {
        let outOfRange = QuantityParseError(text: text, problem: "out of range for milli-units")
        guard significand != 0 else { return 0 }
        var magnitude = UInt128(significand)
        for _ in 0..<binaryPower {
            let (product, overflow) = magnitude.multipliedReportingOverflow(by: 1024)
            guard !overflow else { throw outOfRange }
            magnitude = product
        }
        let shift = exponent + 3
        if shift >= 0 {
            for _ in 0..<shift {
                let (product, overflow) = magnitude.multipliedReportingOverflow(by: 10)
                guard !overflow, product <= UInt128(Int64.max) else { throw outOfRange }
                magnitude = product
            }
        } else {
            var divisor: UInt128 = 1
            var divisorOverflowed = false
            for _ in 0..<(-shift) where !divisorOverflowed {
                let (product, overflow) = divisor.multipliedReportingOverflow(by: 10)
                divisorOverflowed = overflow
                divisor = product
            }
            if divisorOverflowed || divisor > magnitude {
                magnitude = 1
            } else {
                let (quotient, remainder) = magnitude.quotientAndRemainder(dividingBy: divisor)
                magnitude = remainder == 0 ? quotient : quotient + 1
            }
        }
        guard magnitude <= UInt128(Int64.max) else { throw outOfRange }
        let value = Int64(magnitude)
        return isNegative ? -value : value
    }

    /// The value as a `Double`, for fractions finer than a milli.
    var approximateValue: Double {
        var value = Double(significand)
        value *= pow10(exponent)
        for _ in 0..<binaryPower { value *= 1024 }
        return isNegative ? -value : value
    }

    private func pow10(_ power: Int) -> Double {
        var result = 1.0
        for _ in 0..<abs(power) { result *= 10 }
        return power < 0 ? 1 / result : result
    }
}
