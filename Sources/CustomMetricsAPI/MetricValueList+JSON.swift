import Foundation

/// A hand-written JSON writer for the hot path: the same bytes `JSONEncoder` with `.sortedKeys` and
/// `.withoutEscapingSlashes` produces (the golden tests compare them), at a fraction of the cost per item.
///
/// Foundation's `JSONEncoder` builds a tree of boxed values per item and sorts keys per object; a list of
/// 10,000 pods spent most of its time there. Keys are written here in sorted order by construction.
extension MetricValueList {
    /// The list as compact JSON with keys sorted.
    public func jsonBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(128 + items.count * 240)
        // The selector is the same for every item of a list: encode it once.
        let selector = items.first.flatMap { WireLabelSelector($0.metricSelector) }.map(JSONBytes.encoded)
        out.append(literal: #"{"apiVersion":"#)
        JSONBytes.string(version.groupVersion, into: &out)
        out.append(literal: #","items":["#)
        // The items of one answer share the query's evaluation time: render it once.
        var timestamp = Timestamp()
        for (index, item) in items.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            switch version {
            case .v1beta2: Self.v1beta2(item, selector: selector, timestamp: &timestamp, into: &out)
            case .v1beta1: Self.v1beta1(item, selector: selector, timestamp: &timestamp, into: &out)
            }
        }
        out.append(literal: #"],"kind":"MetricValueList","metadata":{}}"#)
        return out
    }

    private static func describedObject(_ object: ObjectReference, into out: inout [UInt8]) {
        out.append(literal: #"{"apiVersion":"#)
        JSONBytes.string(object.apiVersion, into: &out)
        out.append(literal: #","kind":"#)
        JSONBytes.string(object.kind, into: &out)
        out.append(literal: #","name":"#)
        JSONBytes.string(object.name, into: &out)
        if let namespace = object.namespace {
            out.append(literal: #","namespace":"#)
            JSONBytes.string(namespace, into: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    /// The last timestamp rendered, as its JSON string.
    private struct Timestamp {
        var date: Date?
        var json: [UInt8] = []

        mutating func json(for date: Date) -> [UInt8] {
            if date != self.date {
                self.date = date
                json = []
                JSONBytes.string(rfc3339Seconds(date), into: &json)
            }
            return json
        }
    }

    private static func v1beta2(_ item: MetricValue, selector: [UInt8]?, timestamp: inout Timestamp, into out: inout [UInt8]) {
        out.append(literal: #"{"describedObject":"#)
        describedObject(item.describedObject, into: &out)
        out.append(literal: #","metric":{"name":"#)
        JSONBytes.string(item.metricName, into: &out)
        if let selector {
            out.append(literal: #","selector":"#)
            out += selector
        }
        out.append(literal: #"},"timestamp":"#)
        out += timestamp.json(for: item.timestamp)
        out.append(literal: #","value":"#)
        JSONBytes.string(item.value.description, into: &out)
        if let window = item.windowSeconds {
            out.append(literal: #","windowSeconds":"#)
            out.append(contentsOf: String(window).utf8)
        }
        out.append(UInt8(ascii: "}"))
    }

    private static func v1beta1(_ item: MetricValue, selector: [UInt8]?, timestamp: inout Timestamp, into out: inout [UInt8]) {
        out.append(literal: #"{"describedObject":"#)
        describedObject(item.describedObject, into: &out)
        out.append(literal: #","metricName":"#)
        JSONBytes.string(item.metricName, into: &out)
        out.append(literal: #","selector":"#)
        if let selector { out += selector } else { out.append(literal: "null") }
        out.append(literal: #","timestamp":"#)
        out += timestamp.json(for: item.timestamp)
        out.append(literal: #","value":"#)
        JSONBytes.string(item.value.description, into: &out)
        if let window = item.windowSeconds {
            out.append(literal: #","window":"#)
            out.append(contentsOf: String(window).utf8)
        }
        out.append(UInt8(ascii: "}"))
    }
}

enum JSONBytes {
    /// A JSON string literal as `JSONEncoder` writes it with `.withoutEscapingSlashes`.
    static func string(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Names, versions and quantities need no escape: copy them whole.
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            out.append(contentsOf: text.utf8)
            out.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x08: out += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0C: out += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// A small value through `JSONEncoder` (rare: the selector, once per list).
    static func encoded(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map(Array.init) ?? Array("null".utf8)
    }
}

extension [UInt8] {
    /// Appends a literal's bytes without building an array for them.
    @inline(__always)
    mutating func append(literal: StaticString) {
        literal.withUTF8Buffer { append(contentsOf: $0) }
    }
}
