import Foundation

/// Fuzzes `VectorDecoder`, the hot path's reader of Prometheus' `/api/v1/query` answer.
///
/// Invariants, on any input:
/// - it never traps;
/// - whatever it returns, `JSONDecoder` (the full path's decoder, with the answer's shape written again
///   here) returns the same samples from the same bytes: the fast path never invents or changes a value;
/// - an answer generated from the input (labels with every kind of escape, NaN and ±Inf values, keys in
///   any order, extra keys, JSON whitespace) is read back exactly: the fast path does not decline what
///   Prometheus sends.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    let raw = UnsafeRawBufferPointer(start: data, count: size)
    if let fast = VectorDecoder.decode(raw) {
        let full = VectorModel.decode(Data(raw))
        Invariant.require(full == fast.map(VectorModel.Sample.init), "fast path read \(fast), JSONDecoder read \(String(describing: full))")
    }
    var random = input.generator()
    let (text, expected) = VectorModel.generate(&random)
    let read = Array(text.utf8).withUnsafeBytes { VectorDecoder.decode($0) }
    Invariant.require(read?.map(VectorModel.Sample.init) == expected, "generated answer \(Invariant.excerpt(text)) read as \(String(describing: read))")
    return 0
}

enum VectorModel {
    struct Sample: Equatable {
        var labels: [String: String]
        var timestamp: Double
        var value: String

        init(labels: [String: String], timestamp: Double, value: String) {
            self.labels = labels
            self.timestamp = timestamp
            self.value = value
        }

        init(_ sample: InstantSample) {
            self.init(labels: sample.labels, timestamp: sample.timestamp, value: sample.value)
        }
    }

    private struct Envelope: Decodable {
        var status: String
        var data: Body?
    }

    private struct Body: Decodable {
        var resultType: String
        var result: [Element]?
    }

    private struct Element: Decodable {
        var metric: [String: String]
        var value: Pair
    }

    private struct Pair: Decodable {
        var timestamp: Double
        var value: String

        init(from decoder: any Decoder) throws {
            var container = try decoder.unkeyedContainer()
            timestamp = try container.decode(Double.self)
            value = try container.decode(String.self)
            guard container.isAtEnd else { throw DecodingError.dataCorruptedError(in: container, debugDescription: "extra") }
        }
    }

    /// The samples `JSONDecoder` reads from a successful vector answer, or nil.
    static func decode(_ data: Data) -> [Sample]? {
        guard let envelope = try? JSONDecoder().decode(Envelope.self, from: data), envelope.status == "success",
            let body = envelope.data, body.resultType == "vector"
        else { return nil }
        return (body.result ?? []).map { Sample(labels: $0.metric, timestamp: $0.value.timestamp, value: $0.value.value) }
    }

    /// A valid answer drawn from `random`, written by this independent encoder, and its samples.
    static func generate(_ random: inout SplitMix64) -> (String, [Sample]) {
        let count = Int(random.next() % 4)
        var samples: [Sample] = []
        for _ in 0..<count {
            var labels: [String: String] = [:]
            for _ in 0..<Int(random.next() % 3) {
                labels[word(&random, letters: "abz_")] = word(&random, letters: "a\"\\/\u{1}\n\u{e9}\u{1F600}{}[],: ")
            }
            let values = ["NaN", "+Inf", "-Inf", "0", "1.4999998333631612", "-2.5e-7"]
            let timestamp = Double(1_795_000_000) + Double(random.next() % 1000) / 1000
            samples.append(Sample(labels: labels, timestamp: timestamp, value: values[Int(random.next() % UInt64(values.count))]))
        }
        let space = [" ", "", "\n", "\t", "\r\n "][Int(random.next() % 5)]
        let elements = samples.map { sample in
            let metric = sample.labels.map { "\(quoted($0.key, &random))\(space):\(quoted($0.value, &random))" }.joined(separator: ",")
            let members = ["\"metric\":{\(metric)}", "\"value\":[\(sample.timestamp),\(space)\(quoted(sample.value, &random))]"]
            return "{" + shuffled(members, &random).joined(separator: ",\(space)") + "}"
        }
        let data = shuffled(["\"resultType\":\"vector\"", "\"result\":[\(elements.joined(separator: ","))]", "\"stats\":{\"a\":[1,true,null]}"], &random)
        let top = shuffled(["\"status\":\"success\"", "\"data\":{\(data.joined(separator: ","))}", "\"warnings\":[\"w\"]"], &random)
        return (space + "{" + top.joined(separator: ",") + "}" + space, samples)
    }

    private static func word(_ random: inout SplitMix64, letters: String) -> String {
        let characters = Array(letters)
        return String((0..<Int(random.next() % 6)).map { _ in characters[Int(random.next() % UInt64(characters.count))] })
    }

    /// A JSON string literal, with `\u` escapes chosen at random for some characters.
    private static func quoted(_ text: String, _ random: inout SplitMix64) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "/" where random.next() % 2 == 0: out += "\\/"
            case _ where scalar.value < 0x20 || (scalar.value > 0x7F && random.next() % 2 == 0):
                for unit in String(scalar).utf16 { out += "\\u" + String(format: "%04x", unit) }
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private static func shuffled(_ items: [String], _ random: inout SplitMix64) -> [String] {
        var items = items
        for index in stride(from: items.count - 1, to: 0, by: -1) {
            items.swapAt(index, Int(random.next() % UInt64(index + 1)))
        }
        return items
    }
}
