#if !FUZZING
// The fuzz target compiles this file with MetricRules' PrometheusQuerying.swift in one module.
import MetricRules
#endif

/// Reads the one answer the hot path needs, a successful `/api/v1/query` vector, straight from its bytes:
///
///     {"status":"success","data":{"resultType":"vector","result":[{"metric":{…},"value":[<ts>,"<v>"]},…]}}
///
/// without building a Foundation object graph first (`JSONDecoder` materialises every label map and number
/// before the first sample is made). Keys may come in any order, unknown keys (`warnings`, `infos`,
/// `stats`) are skipped, and whitespace is JSON's.
///
/// It declines (returns nil) anything else: an error envelope, another result type, a duplicate key,
/// malformed JSON or invalid UTF-8. The caller then decodes with `JSONDecoder`, which says what was wrong,
/// so error messages stay those of the full decoder. Fuzzed against that decoder (`fuzz/VectorTarget.swift`):
/// whatever this one returns, the full decoder returns too.
enum VectorDecoder {
    /// The samples of a successful vector answer, or nil to let the full decoder read `bytes`.
    static func decode(_ bytes: UnsafeRawBufferPointer) -> [InstantSample]? {
        var reader = JSONReader(bytes)
        guard let samples = reader.topLevel(), reader.atEnd else { return nil }
        return samples
    }
}

/// A cursor over JSON text, reading only what `VectorDecoder` needs. Every method returns nil on the first
/// byte that does not fit, which ends the fast path.
private struct JSONReader {
    private let bytes: UnsafeRawBufferPointer
    private var position = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    var atEnd: Bool {
        mutating get {
            skipWhitespace()
            return position == bytes.count
        }
    }

    // MARK: - The answer's shape

    mutating func topLevel() -> [InstantSample]? {
        var status: String?
        var samples: [InstantSample]?
        let complete = object { key, reader in
            switch key {
            case "status":
                guard status == nil, let value = reader.string() else { return false }
                status = value
            case "data":
                guard samples == nil, let value = reader.data() else { return false }
                samples = value
            default:
                return reader.skipValue()
            }
            return true
        }
        guard complete, status == "success" else { return nil }
        return samples
    }

    private mutating func data() -> [InstantSample]? {
        var resultType: String?
        var result: [InstantSample]?
        let complete = object { key, reader in
            switch key {
            case "resultType":
                guard resultType == nil, let value = reader.string() else { return false }
                resultType = value
            case "result":
                guard result == nil, let value = reader.result() else { return false }
                result = value
            default:
                return reader.skipValue()
            }
            return true
        }
        guard complete, resultType == "vector" else { return nil }
        return result ?? []
    }

    private mutating func result() -> [InstantSample]? {
        if literal("null") { return [] }
        var samples: [InstantSample] = []
        let complete = array { reader in
            guard let sample = reader.sample() else { return false }
            samples.append(sample)
            return true
        }
        return complete ? samples : nil
    }

    private mutating func sample() -> InstantSample? {
        var labels: [String: String]?
        var pair: (Double, String)?
        let complete = object { key, reader in
            switch key {
            case "metric":
                guard labels == nil, let value = reader.labels() else { return false }
                labels = value
            case "value":
                guard pair == nil, let value = reader.pair() else { return false }
                pair = value
            default:
                return reader.skipValue()
            }
            return true
        }
        guard complete, let labels, let pair else { return nil }
        return InstantSample(labels: labels, timestamp: pair.0, value: pair.1)
    }

    private mutating func labels() -> [String: String]? {
        var labels: [String: String] = [:]
        let complete = object { key, reader in
            guard labels[key] == nil, let value = reader.string() else { return false }
            labels[key] = value
            return true
        }
        return complete ? labels : nil
    }

    /// `[<number>, "<string>"]`.
    private mutating func pair() -> (Double, String)? {
        guard consume(UInt8(ascii: "[")), let timestamp = number(), consume(UInt8(ascii: ",")), let value = string(),
            consume(UInt8(ascii: "]"))
        else { return nil }
        return (timestamp, value)
    }

    // MARK: - JSON

    /// An object, calling `member` with each key and the reader positioned at its value.
    private mutating func object(_ member: (String, inout JSONReader) -> Bool) -> Bool {
        guard consume(UInt8(ascii: "{")) else { return false }
        if consume(UInt8(ascii: "}")) { return true }
        var seen: Set<String> = []
        repeat {
            guard let key = string(), seen.insert(key).inserted, consume(UInt8(ascii: ":")), member(key, &self) else { return false }
        } while consume(UInt8(ascii: ","))
        return consume(UInt8(ascii: "}"))
    }

    private mutating func array(_ element: (inout JSONReader) -> Bool) -> Bool {
        guard consume(UInt8(ascii: "[")) else { return false }
        if consume(UInt8(ascii: "]")) { return true }
        repeat {
            guard element(&self) else { return false }
        } while consume(UInt8(ascii: ","))
        return consume(UInt8(ascii: "]"))
    }

    /// Any value, checked for well-formedness and dropped.
    private mutating func skipValue() -> Bool {
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
        while position < bytes.count, bytes[position] != UInt8(ascii: "\""), bytes[position] != UInt8(ascii: "\\") {
            guard bytes[position] >= 0x20 else { return nil }
            position += 1
        }
        guard position < bytes.count else { return nil }
        if bytes[position] == UInt8(ascii: "\"") {
            let text = String(validating: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
            position += 1
            return text
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

    private mutating func appendEscape(to utf8: inout [UInt8]) -> Bool {
        guard position < bytes.count else { return false }
        let byte = bytes[position]
        position += 1
        let simple: [UInt8: UInt8] = [
            UInt8(ascii: "\""): 0x22, UInt8(ascii: "\\"): 0x5C, UInt8(ascii: "/"): 0x2F, UInt8(ascii: "b"): 0x08,
            UInt8(ascii: "f"): 0x0C, UInt8(ascii: "n"): 0x0A, UInt8(ascii: "r"): 0x0D, UInt8(ascii: "t"): 0x09,
        ]
        if let resolved = simple[byte] {
            utf8.append(resolved)
            return true
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
        utf8.append(contentsOf: Array(String(Character(scalar)).utf8))
        return true
    }

    private mutating func hex4() -> UInt32? {
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
    private mutating func number() -> Double? {
        skipWhitespace()
        let start = position
        if peek(UInt8(ascii: "-")) { position += 1 }
        guard digits(leadingZeroAllowed: false) else { return nil }
        if peek(UInt8(ascii: ".")) {
            position += 1
            guard digits(leadingZeroAllowed: true) else { return nil }
        }
        if peek(UInt8(ascii: "e")) || peek(UInt8(ascii: "E")) {
            position += 1
            if peek(UInt8(ascii: "+")) || peek(UInt8(ascii: "-")) { position += 1 }
            guard digits(leadingZeroAllowed: true) else { return nil }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else { return nil }
        return value
    }

    private mutating func digits(leadingZeroAllowed: Bool) -> Bool {
        let start = position
        while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) { position += 1 }
        if position == start { return false }
        // JSON allows "0" but not "01" for the integer part.
        return leadingZeroAllowed || position - start == 1 || bytes[start] != UInt8(ascii: "0")
    }

    private mutating func literal(_ word: String) -> Bool {
        guard peekLiteral(word) else { return false }
        position += word.utf8.count
        return true
    }

    private mutating func peekLiteral(_ word: String) -> Bool {
        skipWhitespace()
        let utf8 = Array(word.utf8)
        guard position + utf8.count <= bytes.count else { return false }
        return bytes[position..<position + utf8.count].elementsEqual(utf8)
    }

    private func peek(_ byte: UInt8) -> Bool {
        position < bytes.count && bytes[position] == byte
    }

    /// Skips whitespace, then takes `byte` if it is next.
    private mutating func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        return consumeRaw(byte)
    }

    private mutating func consumeRaw(_ byte: UInt8) -> Bool {
        guard peek(byte) else { return false }
        position += 1
        return true
    }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }
}
