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

extension JSONReader {
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

    fileprivate mutating func data() -> [InstantSample]? {
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

    fileprivate mutating func result() -> [InstantSample]? {
        if literal("null") { return [] }
        var samples: [InstantSample] = []
        let complete = array { reader in
            guard let sample = reader.sample() else { return false }
            samples.append(sample)
            return true
        }
        return complete ? samples : nil
    }

    fileprivate mutating func sample() -> InstantSample? {
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

    fileprivate mutating func labels() -> [String: String]? {
        // Room for the few labels of a grouped series in one allocation, rather than growing from empty.
        var labels = [String: String](minimumCapacity: 4)
        let complete = object(keys: .refusedByMember) { key, reader in
            guard labels[key] == nil, let value = reader.string() else { return false }
            labels[key] = value
            return true
        }
        return complete ? labels : nil
    }

    /// `[<number>, "<string>"]`.
    fileprivate mutating func pair() -> (Double, String)? {
        guard consume(UInt8(ascii: "[")), let timestamp = number(), consume(UInt8(ascii: ",")), let value = string(),
            consume(UInt8(ascii: "]"))
        else { return nil }
        return (timestamp, value)
    }
}
