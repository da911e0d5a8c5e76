import CustomMetricsAPI
import Foundation
import Testing

@Suite("Wire format: the JSON Kubernetes clients decode")
struct WireFormatTests {
    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static let value = MetricValue(
        describedObject: ObjectReference(kind: "Pod", namespace: "team-a", name: "triton-0"),
        metricName: "triton:queue_compute:ratio",
        metricSelector: .everything,
        timestamp: Date(timeIntervalSince1970: 1_795_000_000.987),
        windowSeconds: 60,
        value: Quantity(milli: 1500)
    )

    @Test func v1beta2Item() throws {
        #expect(try Self.json(MetricValueList(version: .v1beta2, items: [Self.value])) == #"{"apiVersion":"custom.metrics.k8s.io/v1beta2","items":[{"describedObject":{"apiVersion":"v1","kind":"Pod","name":"triton-0","namespace":"team-a"},"metric":{"name":"triton:queue_compute:ratio"},"timestamp":"2026-11-18T11:06:40Z","value":"1500m","windowSeconds":60}],"kind":"MetricValueList","metadata":{}}"#)
    }

    @Test func v1beta1Item() throws {
        #expect(try Self.json(MetricValueList(version: .v1beta1, items: [Self.value])) == #"{"apiVersion":"custom.metrics.k8s.io/v1beta1","items":[{"describedObject":{"apiVersion":"v1","kind":"Pod","name":"triton-0","namespace":"team-a"},"metricName":"triton:queue_compute:ratio","selector":null,"timestamp":"2026-11-18T11:06:40Z","value":"1500m","window":60}],"kind":"MetricValueList","metadata":{}}"#)
    }

    @Test func metricSelectorAsLabelSelectorObject() throws {
        var value = Self.value
        value.metricSelector = try LabelSelector(parsing: "model=tensorrt_llm,version in (1,2),!canary,gpu")
        let json = try Self.json(MetricValueList(version: .v1beta2, items: [value]))
        #expect(json.contains(#""metric":{"name":"triton:queue_compute:ratio","selector":{"matchExpressions":[{"key":"version","operator":"In","values":["1","2"]},{"key":"canary","operator":"DoesNotExist"},{"key":"gpu","operator":"Exists"}],"matchLabels":{"model":"tensorrt_llm"}}}"#))
    }

    @Test func emptyList() throws {
        #expect(try Self.json(MetricValueList(version: .v1beta2, items: [])) == #"{"apiVersion":"custom.metrics.k8s.io/v1beta2","items":[],"kind":"MetricValueList","metadata":{}}"#)
    }

    @Test(arguments: [
        (0.0, "1970-01-01T00:00:00Z"),
        (951_782_400.5, "2000-02-29T00:00:00Z"),
        (1_795_000_000.999, "2026-11-18T11:06:40Z"),
        (4_102_444_799, "2099-12-31T23:59:59Z"),
    ])
    func timestamps(seconds: Double, expected: String) {
        #expect(rfc3339Seconds(Date(timeIntervalSince1970: seconds)) == expected)
    }

    @Test func discovery() throws {
        let list = APIResourceList(version: .v1beta2, metrics: [
            MetricInfo(resource: "pods", namespaced: true, metric: "triton:queue_compute:ratio"),
            MetricInfo(resource: "namespaces", namespaced: false, metric: "triton:queue_compute:ratio"),
        ])
        #expect(try Self.json(list) == #"{"apiVersion":"v1","groupVersion":"custom.metrics.k8s.io/v1beta2","kind":"APIResourceList","resources":[{"kind":"MetricValueList","name":"namespaces/triton:queue_compute:ratio","namespaced":false,"singularName":"","verbs":["get"]},{"kind":"MetricValueList","name":"pods/triton:queue_compute:ratio","namespaced":true,"singularName":"","verbs":["get"]}]}"#)
    }

    @Test func status() throws {
        #expect(try Self.json(Status(MetricsError.metricNotFound("x", resource: "pods"))) == #"{"apiVersion":"v1","code":404,"kind":"Status","message":"the server could not find the metric x for pods","metadata":{},"reason":"NotFound","status":"Failure"}"#)
    }
}
