/// Fuzzes `Quantity(decimal:)`, which turns Prometheus sample text into a Kubernetes quantity.
///
/// Invariants, on any text:
/// - parsing never traps, and accepts exactly the finite decimals `[+-]?(d+[.d*]|.d+)([eE][+-]?d{1,4})?`
///   with an exponent of at most 400 (the limit `Quantity(decimal:)` documents: Float64 ends near 1e308);
/// - the milli value is the input times 1000 rounded half away from zero, computed here again by moving
///   the decimal point in the digit string, and, for short inputs, with Foundation's `Decimal`;
/// - the canonical description is Kubernetes' DecimalSI form (no leading zeros, exponent a multiple of
///   three, SI suffix or `e<n>`, no `000` before the suffix), worth the same milli value; when it has no
///   letter suffix and an exponent of at most 400, `Quantity(decimal:)` reads it back as the same quantity;
/// - when the value fits in 64 bits, `Quantity(milli:)` builds the same quantity.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = FuzzInput(data, size).text
    let quantity = Quantity(decimal: text)
    let expected = ReferenceDecimal(text)
    let context = "Quantity(decimal: \(Invariant.excerpt(text)))"
    guard let quantity else {
        Invariant.require(expected == nil, "\(context) is nil, but the text is the finite decimal \(expected!)")
        return 0
    }
    guard let expected else {
        Invariant.require(false, "\(context) is \(Invariant.excerpt(quantity.description)), but the text is not a finite decimal")
        return 0
    }
    let (milliDigits, isNegative) = expected.roundedMilli()
    Invariant.require(
        quantity.milliDigits == milliDigits && quantity.isNegative == isNegative,
        "\(context) is \(isNegative ? "-" : "")\(quantity.milliDigits)m, expected \(isNegative ? "-" : "")\(milliDigits)m"
    )
    if let foundation = expected.roundedMilliWithFoundation() {
        Invariant.require(
            foundation == (isNegative ? "-" : "") + milliDigits,
            "\(context): digit-string rounding gives \(milliDigits)m, Decimal gives \(foundation)m"
        )
    }
    QuantityChecks.canonical(quantity, context: context)
    if let milli = quantity.milliValue {
        Invariant.require(Quantity(milli: milli) == quantity, "\(context): Quantity(milli: \(milli)) differs")
        Invariant.require(Quantity(milli: milli).description == quantity.description, "\(context): descriptions differ")
    }
    return 0
}

enum QuantityChecks {
    static let suffixes: [String: Int] = ["n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18]

    /// Reads the canonical description independently and checks it is worth the quantity's milli digits.
    static func canonical(_ quantity: Quantity, context: String) {
        let description = quantity.description
        let context = "\(context) prints as \(Invariant.excerpt(description))"
        var body = Substring(description)
        let negative = body.first == "-"
        if negative { body = body.dropFirst() }
        let mantissa = body.prefix { $0.isASCII && $0.isNumber }
        let suffix = String(body.dropFirst(mantissa.count))
        let exponent: Int?
        if suffix.hasPrefix("e") {
            exponent = Int(suffix.dropFirst())
            Invariant.require(
                exponent.map { !suffixes.values.contains($0) } ?? false, "\(context): e-suffix for an SI exponent"
            )
        } else {
            exponent = suffixes[suffix]
        }
        Invariant.require(negative == quantity.isNegative, "\(context): wrong sign")
        guard let exponent, !mantissa.isEmpty else {
            Invariant.require(false, "\(context): not a DecimalSI quantity")
            return
        }
        if quantity.isZero {
            Invariant.require(description == "0", "\(context): zero must print as 0")
            return
        }
        Invariant.require(mantissa.first != "0", "\(context): leading zero")
        Invariant.require(exponent % 3 == 0 && exponent >= -3, "\(context): exponent \(exponent)")
        Invariant.require(!mantissa.hasSuffix("000"), "\(context): the mantissa ends in 000, the suffix is too small")
        Invariant.require(
            String(mantissa) + String(repeating: "0", count: exponent + 3) == quantity.milliDigits,
            "\(context): worth a different amount than \(quantity.milliDigits)m"
        )
        // Prometheus text stops at exponent 400; a description past it is not something to read back.
        if suffix.isEmpty || (suffix.hasPrefix("e") && exponent <= 400) {
            Invariant.require(Quantity(decimal: description) == quantity, "\(context): does not read back as the same quantity")
        }
    }
}
