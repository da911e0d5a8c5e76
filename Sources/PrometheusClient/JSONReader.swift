/// A cursor over JSON text, reading only what `VectorDecoder` needs. Every method returns nil on the first
/// byte that does not fit, which ends the fast path.
struct JSONReader {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    var atEnd: Bool {
        mutating get {
            skipWhitespace()
            return position == bytes.count
        }
    }

    /// How an object's keys are kept unique: a repeated key ends the fast path either way.
    enum RepeatedKeys {
        /// The reader remembers the keys (for objects whose members it does not all keep).
        case tracked
        /// `member` refuses a key it has already taken (a label map checks its own dictionary: no second set).
        case refusedByMember
    }

    /// An object, calling `member` with each key and the reader positioned at its value.
    mutating func object(keys: RepeatedKeys = .tracked, _ member: (String, inout JSONReader) -> Bool) -> Bool {
        guard consume(UInt8(ascii: "{")) else { return false }
        if consume(UInt8(ascii: "}")) { return true }
        var seen = KeySet()
        repeat {
            guard let key = string() else { return false }
            if keys == .tracked, !seen.insert(key) { return false }
            guard consume(UInt8(ascii: ":")), member(key, &self) else { return false }
        } while consume(UInt8(ascii: ","))
        return consume(UInt8(ascii: "}"))
    }

    /// The keys of one object: the first four held inline (a sample has two, an envelope up to four), a
    /// set beyond, so neither the common object allocates nor a hostile one with many keys costs more
    /// than hashing them.
    struct KeySet {
        private var first: String?
        private var second: String?
        private var third: String?
        private var fourth: String?
        private var more: Set<String> = []

        /// False when `key` was already there.
        mutating func insert(_ key: String) -> Bool {
            if first == nil { first = key; return true }
            if first == key { return false }
            if second == nil { second = key; return true }
            if second == key { return false }
            if third == nil { third = key; return true }
            if third == key { return false }
            if fourth == nil { fourth = key; return true }
            if fourth == key { return false }
            return more.insert(key).inserted
        }
    }

    mutating func array(_ element: (inout JSONReader) -> Bool) -> Bool {
        guard consume(UInt8(ascii: "[")) else { return false }
        if consume(UInt8(ascii: "]")) { return true }
        repeat {
            guard element(&self) else { return false }
        } while consume(UInt8(ascii: ","))
        return consume(UInt8(ascii: "]"))
    }

    /// Any value, checked for well-formedness and dropped.
    mutating func skipValue() -> Bool {
        skipWhitespace()
        guard position < bytes.count else { return false }
        switch bytes[position] {
        case UInt8(ascii: "{"): return object { _, reader in reader.skipValue() }
        case UInt8(ascii: "["): return array { reader in reader.skipValue() }
        case UInt8(ascii: "\""): return string() != nil
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        default: return number() != nil
        }
    }

    /// A string, its escapes resolved; nil for a raw control character, a bad escape or invalid UTF-8.
    mutating func string() -> String? {
        guard consume(UInt8(ascii: "\"")) else { return nil }
        let start = position
        // The common case: no escape, so the bytes are the string.
        var nonASCII: UInt8 = 0
        while position < bytes.count, bytes[position] != UInt8(ascii: "\""), bytes[position] != UInt8(ascii: "\\") {
            guard bytes[position] >= 0x20 else { return nil }
            nonASCII |= bytes[position] & 0x80
            position += 1
        }
        guard position < bytes.count else { return nil }
        if bytes[position] == UInt8(ascii: "\"") {
            let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<position])
            position += 1
            // ASCII is valid UTF-8 as it stands, and `decoding` is the standard library's fast path: the
            // generic `validating` builds type metadata on every call, most of a label's cost.
            return nonASCII == 0 ? String(decoding: raw, as: UTF8.self) : String(validating: raw, as: UTF8.self)
        }
        var utf8 = Array(bytes[start..<position])
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(validating: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard appendEscape(to: &utf8) else { return nil }
            case 0..<0x20:
                return nil
            default:
                utf8.append(byte)
            }
        }
        return nil
    }

    mutating func appendEscape(to utf8: inout [UInt8]) -> Bool {
        guard position < bytes.count else { return false }
        let byte = bytes[position]
        position += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"):
            utf8.append(byte)
            return true
        case UInt8(ascii: "b"): utf8.append(0x08); return true
        case UInt8(ascii: "f"): utf8.append(0x0C); return true
        case UInt8(ascii: "n"): utf8.append(0x0A); return true
        case UInt8(ascii: "r"): utf8.append(0x0D); return true
        case UInt8(ascii: "t"): utf8.append(0x09); return true
        default: break
        }
        guard byte == UInt8(ascii: "u"), var unit = hex4() else { return false }
        if (0xD800..<0xDC00).contains(unit) {
            // A high surrogate must be followed by an escaped low one.
            guard consumeRaw(UInt8(ascii: "\\")), consumeRaw(UInt8(ascii: "u")), let low = hex4(), (0xDC00..<0xE000).contains(low) else {
                return false
            }
            unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00..<0xE000).contains(unit) {
            return false
        }
        guard let scalar = Unicode.Scalar(unit) else { return false }
        UTF8.encode(scalar) { utf8.append($0) }
        return true
    }

    mutating func hex4() -> UInt32? {
        guard position + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[position]
            position += 1
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// A JSON number (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`) as the nearest Double.
    mutating func number() -> Double? {
        skipWhitespace()
        let start = position
        if peek(UInt8(ascii: "-")) { position += 1 }
        guard digits(leadingZeroAllowed: false) else { return nil }
        if peek(UInt8(ascii: ".")) {
            position += 1
            guard digits(leadingZeroAllowed: true) else { return nil }
        }
        let mantissaIsZero = bytes[start..<position].allSatisfy { $0 == UInt8(ascii: "0") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
        if peek(UInt8(ascii: "e")) || peek(UInt8(ascii: "E")) {
            position += 1
            if peek(UInt8(ascii: "+")) || peek(UInt8(ascii: "-")) { position += 1 }
            guard digits(leadingZeroAllowed: true) else { return nil }
        }
        if let exact = Self.exactDouble(UnsafeRawBufferPointer(rebasing: bytes[start..<position])) { return exact }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        // Out of Double's range either way is refused, as JSONDecoder refuses it: 1e400 is not infinity,
        // and 1e-400 is not zero.
        guard let value = Double(text), value.isFinite, value != 0 || mantissaIsZero else { return nil }
        return value
    }

    /// A well-formed JSON number without an exponent and with at most 15 significant digits (a sample's
    /// timestamp, `1795000000.123`), computed without parsing text: the digits make an integer below
    /// 2^53 and the fraction is a division by a power of ten of at most 10^22, both exact in a Double, so
    /// the one rounding of the division gives the correctly rounded value, as `Double(String)` does
    /// (Clinger's fast path). Nil for anything else, which goes to `Double(String)`.
    static func exactDouble(_ text: UnsafeRawBufferPointer) -> Double? {
        var mantissa: UInt64 = 0
        var digits = 0
        var fractionDigits = 0
        var inFraction = false
        var negative = false
        for (index, byte) in text.enumerated() {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                mantissa = mantissa &* 10 &+ UInt64(byte - UInt8(ascii: "0"))
                if mantissa != 0 { digits += 1 }
                if inFraction { fractionDigits += 1 }
            case UInt8(ascii: "."):
                inFraction = true
            case UInt8(ascii: "-") where index == 0:
                negative = true
            default:
                return nil
            }
        }
        guard digits <= 15, fractionDigits <= 22 else { return nil }
        let magnitude = Double(mantissa) / Self.powersOfTen[fractionDigits]
        return negative ? -magnitude : magnitude
    }

    private static let powersOfTen: [Double] = (0...22).map { exponent in
        (0..<exponent).reduce(1.0) { value, _ in value * 10 }
    }

    mutating func digits(leadingZeroAllowed: Bool) -> Bool {
        let start = position
        while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) { position += 1 }
        if position == start { return false }
        // JSON allows "0" but not "01" for the integer part.
        return leadingZeroAllowed || position - start == 1 || bytes[start] != UInt8(ascii: "0")
    }

    mutating func literal(_ word: String) -> Bool {
        guard peekLiteral(word) else { return false }
        position += word.utf8.count
        return true
    }

    mutating func peekLiteral(_ word: String) -> Bool {
        skipWhitespace()
        let utf8 = Array(word.utf8)
        guard position + utf8.count <= bytes.count else { return false }
        return bytes[position..<position + utf8.count].elementsEqual(utf8)
    }

    func peek(_ byte: UInt8) -> Bool {
        position < bytes.count && bytes[position] == byte
    }

    /// Skips whitespace, then takes `byte` if it is next.
    mutating func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        return consumeRaw(byte)
    }

    mutating func consumeRaw(_ byte: UInt8) -> Bool {
        guard peek(byte) else { return false }
        position += 1
        return true
    }

    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }
}
