import CustomMetricsAPI
import Foundation
import Testing

@Suite("MetricValueList.jsonBytes: the same bytes as JSONEncoder with sorted keys")
struct JSONBytesTests {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    static func item(_ name: String, namespace: String?, selector: String, window: Int64?) throws -> MetricValue {
        MetricValue(
            describedObject: ObjectReference(kind: "Pod", namespace: namespace, name: name),
            metricName: "triton:queue_compute:ratio/\"odd\"\\\u{1}\u{7f}é",
            metricSelector: try LabelSelector(parsing: selector),
            timestamp: Date(timeIntervalSince1970: 1_795_000_000.9),
            windowSeconds: window,
            value: Quantity(milli: 1_234_567)
        )
    }

    @Test(arguments: [
        ("", Int64?.some(60), String?.some("team-a")),
        ("model=tensorrt_llm", nil, nil),
        ("model in (a,b),!canary,gpu notin (x),tier,replicas>2", 30, "ns"),
    ])
    func identicalToJSONEncoder(selector: String, window: Int64?, namespace: String?) throws {
        let items = [try Self.item("triton-0", namespace: namespace, selector: selector, window: window),
                     try Self.item("triton-1\n\t", namespace: namespace, selector: selector, window: window)]
        for version in [APIVersion.v1beta2, .v1beta1] {
            for list in [MetricValueList(version: version, items: items), MetricValueList(version: version, items: [])] {
                let expected = String(decoding: try Self.encoder().encode(list), as: UTF8.self)
                #expect(String(decoding: list.jsonBytes(), as: UTF8.self) == expected)
            }
        }
    }

    /// Items that differ in every piece the writer renders once and reuses (object kind and API version,
    /// metric name, timestamp, window, namespace), in an order that changes each piece several times.
    @Test func piecesThatChangeFromItemToItem() throws {
        var items: [MetricValue] = []
        for index in 0..<12 {
            items.append(MetricValue(
                describedObject: ObjectReference(
                    kind: index % 3 == 0 ? "Pod" : "Service", namespace: index % 4 == 0 ? nil : "team-\(index % 2)",
                    name: "object-\(index)", apiVersion: index % 5 == 0 ? "v1" : "apps/v1"
                ),
                metricName: index % 2 == 0 ? "ratio" : "queue\"depth",
                metricSelector: try LabelSelector(parsing: "model=a"),
                timestamp: Date(timeIntervalSince1970: 1_795_000_000 + Double(index / 3)),
                windowSeconds: index % 3 == 1 ? nil : Int64(60 + index % 2),
                value: Quantity(milli: Int64(index * 1500 - 4000))
            ))
        }
        for version in [APIVersion.v1beta2, .v1beta1] {
            let list = MetricValueList(version: version, items: items)
            let expected = String(decoding: try Self.encoder().encode(list), as: UTF8.self)
            #expect(String(decoding: list.jsonBytes(), as: UTF8.self) == expected)
        }
    }
}
