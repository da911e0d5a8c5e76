import Foundation

/// A hand-written JSON writer for the hot path: the same bytes `JSONEncoder` with `.sortedKeys` and
/// `.withoutEscapingSlashes` produces (the golden tests compare them), at a fraction of the cost per item.
///
/// Foundation's `JSONEncoder` builds a tree of boxed values per item and sorts keys per object; a list of
/// 10,000 pods spent most of its time there. Keys are written here in sorted order by construction.
extension MetricValueList {
    /// The list as compact JSON with keys sorted.
    public func jsonBytes() -> [UInt8] {
        var writer = Writer(self)
        for item in items { writer.append(item) }
        return writer.finish()
    }

    /// Writes a list item by item.
    ///
    /// An item is five constant pieces around three that vary: what precedes the name (`apiVersion`,
    /// `kind`), the name, the namespace, what lies between the object and the value (metric name,
    /// selector, timestamp), the value, and the window. The pieces are rendered when they change, which
    /// within one answer is once: the items of one query share all of them.
    private struct Writer {
        let version: APIVersion
        /// The selector is the same for every item of a list: encoded once.
        let selector: [UInt8]?
        var out: [UInt8] = []
        var count = 0
        var head = Piece<HeadKey>()
        var middle = Piece<MiddleKey>()
        var tail = Piece<Int64?>()

        init(_ list: MetricValueList) {
            version = list.version
            selector = list.items.first.flatMap { WireLabelSelector($0.metricSelector) }.map(JSONBytes.encoded)
            out.reserveCapacity(128 + list.items.count * 240)
            out.append(literal: #"{"apiVersion":"#)
            JSONBytes.string(version.groupVersion, into: &out)
            out.append(literal: #","items":["#)
        }

        mutating func append(_ item: MetricValue) {
            if count > 0 { out.append(UInt8(ascii: ",")) }
            count += 1
            let object = item.describedObject
            out += head.bytes(for: HeadKey(apiVersion: object.apiVersion, kind: object.kind)) { key, piece in
                piece.append(literal: #"{"describedObject":{"apiVersion":"#)
                JSONBytes.string(key.apiVersion, into: &piece)
                piece.append(literal: #","kind":"#)
                JSONBytes.string(key.kind, into: &piece)
                piece.append(literal: #","name":"#)
            }
            JSONBytes.string(object.name, into: &out)
            if let namespace = object.namespace {
                out.append(literal: #","namespace":"#)
                JSONBytes.string(namespace, into: &out)
            }
            out += middle.bytes(for: MiddleKey(metricName: item.metricName, timestamp: item.timestamp)) { [version, selector] key, piece in
                switch version {
                case .v1beta2:
                    piece.append(literal: #"},"metric":{"name":"#)
                    JSONBytes.string(key.metricName, into: &piece)
                    if let selector {
                        piece.append(literal: #","selector":"#)
                        piece += selector
                    }
                    piece.append(literal: #"},"timestamp":"#)
                case .v1beta1:
                    piece.append(literal: #"},"metricName":"#)
                    JSONBytes.string(key.metricName, into: &piece)
                    piece.append(literal: #","selector":"#)
                    if let selector { piece += selector } else { piece.append(literal: "null") }
                    piece.append(literal: #","timestamp":"#)
                }
                JSONBytes.string(rfc3339Seconds(key.timestamp), into: &piece)
                piece.append(literal: #","value":""#)
            }
            item.value.appendDescription(to: &out)
            out += tail.bytes(for: item.windowSeconds) { [version] window, piece in
                piece.append(UInt8(ascii: "\""))
                if let window {
                    piece.append(contentsOf: (version == .v1beta2 ? #","windowSeconds":"# : #","window":"#).utf8)
                    piece.append(contentsOf: String(window).utf8)
                }
                piece.append(UInt8(ascii: "}"))
            }
        }

        mutating func finish() -> [UInt8] {
            out.append(literal: #"],"kind":"MetricValueList","metadata":{}}"#)
            return out
        }
    }

    private struct HeadKey: Equatable {
        var apiVersion: String
        var kind: String
    }

    private struct MiddleKey: Equatable {
        var metricName: String
        var timestamp: Date
    }

    /// The bytes of one piece, rendered again only when its key changes.
    private struct Piece<Key: Equatable> {
        var key: Key?
        var rendered: [UInt8] = []

        mutating func bytes(for key: Key, render: (Key, inout [UInt8]) -> Void) -> [UInt8] {
            if self.key != key {
                self.key = key
                rendered.removeAll(keepingCapacity: true)
                render(key, &rendered)
            }
            return rendered
        }
    }
}

enum JSONBytes {
    /// A JSON string literal as `JSONEncoder` writes it with `.withoutEscapingSlashes`.
    static func string(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Names, versions and quantities need no escape: copy them whole, scanning the contiguous bytes of
        // a native string rather than iterating its view.
        let copied = text.utf8.withContiguousStorageIfAvailable { utf8 -> Bool in
            for byte in utf8 where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                return false
            }
            out.append(contentsOf: utf8)
            return true
        }
        if copied == true {
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
