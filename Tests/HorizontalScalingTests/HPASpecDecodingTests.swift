import Foundation
import HorizontalScaling
import Testing
import Yams

/// The spec decodes from the manifest a user applies, read from the file the repository ships
/// (`manifests/examples/triton-hpa/hpa.yaml`), and is validated like the API server would.
struct HPASpecDecodingTests {
    /// The shipped example, found from this file's place in the repository.
    static func shippedManifest() throws -> String {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try String(contentsOf: repository.appendingPathComponent("manifests/examples/triton-hpa/hpa.yaml"), encoding: .utf8)
    }

    @Test func decodesTheTritonManifest() throws {
        let hpa = try YAMLDecoder().decode(HorizontalPodAutoscaler.self, from: Self.shippedManifest())
        #expect(hpa.metadata?.name == "triton")
        #expect(hpa.spec.scaleTargetRef == CrossVersionObjectReference(apiVersion: "apps/v1", kind: "Deployment", name: "triton"))
        #expect(hpa.spec.maxReplicas == 4)
        let pods = try #require(hpa.spec.metrics.first?.pods)
        #expect(pods.metric.name == "triton:queue_compute:ratio")
        #expect(pods.metric.selector?.matchLabels == ["model": "tensorrt_llm"])
        #expect(pods.target.averageValue?.milliValue == 1000)
        #expect(hpa.spec.behavior?.scaleUp?.policies == [HPAScalingPolicy(type: .pods, value: 1, periodSeconds: 60)])

        let model = try HorizontalPodAutoscalerModel(spec: hpa.spec)
        #expect(model.scaleDownRules?.stabilizationWindowSeconds == 300)
        #expect(model.scaleUpRules?.selectPolicy == .max)
    }

    @Test func decodesAnObjectMetricAndBareNumbers() throws {
        let json = #"""
            {"maxReplicas": 10, "metrics": [{"type": "Object", "object": {
              "describedObject": {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "name": "main"},
              "metric": {"name": "requests-per-second"},
              "target": {"type": "Value", "value": 2}}}]}
            """#
        let spec = try JSONDecoder().decode(HPASpec.self, from: Data(json.utf8))
        #expect(spec.minReplicas == nil)
        #expect(spec.effectiveMinReplicas == 1)
        #expect(spec.metrics[0].object?.target.value?.milliValue == 2000)
        #expect(spec.metrics[0].displayName == "Ingress metric requests-per-second")
        #expect(spec.behavior == nil)
    }

    struct InvalidRow: CustomTestStringConvertible, Sendable {
        let json: String
        let field: String
        var testDescription: String { field }
    }

    static let podsMetric = #"{"type": "Pods", "pods": {"metric": {"name": "m"}, "target": {"type": "AverageValue", "averageValue": "1"}}}"#

    @Test(arguments: [
        InvalidRow(json: #"{"minReplicas": 0, "maxReplicas": 4, "metrics": [\#(podsMetric)]}"#, field: "spec.minReplicas"),
        InvalidRow(json: #"{"minReplicas": 5, "maxReplicas": 4, "metrics": [\#(podsMetric)]}"#, field: "spec.maxReplicas"),
        InvalidRow(json: #"{"maxReplicas": 4}"#, field: "spec.metrics"),
        InvalidRow(
            json: #"{"maxReplicas": 4, "metrics": [{"type": "Resource", "resource": {"name": "cpu"}}]}"#,
            field: "spec.metrics[0].type"),
        InvalidRow(
            json: #"{"maxReplicas": 4, "metrics": [{"type": "Pods", "pods": {"metric": {"name": "m"}, "target": {"type": "AverageValue", "averageValue": "0"}}}]}"#,
            field: "spec.metrics[0].pods.target.averageValue"),
        InvalidRow(
            json: #"{"maxReplicas": 4, "metrics": [{"type": "Pods", "pods": {"metric": {"name": "m"}, "target": {"type": "Value", "value": "1"}}}]}"#,
            field: "spec.metrics[0].pods.target.type"),
        InvalidRow(
            json: #"{"maxReplicas": 4, "metrics": [\#(podsMetric)], "behavior": {"scaleDown": {"policies": []}}}"#,
            field: "spec.behavior.scaleDown.policies"),
        InvalidRow(
            json: #"{"maxReplicas": 4, "metrics": [\#(podsMetric)], "behavior": {"scaleUp": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 1801}]}}}"#,
            field: "spec.behavior.scaleUp.policies[0].periodSeconds"),
        InvalidRow(
            json: #"{"maxReplicas": 4, "metrics": [\#(podsMetric)], "behavior": {"scaleUp": {"stabilizationWindowSeconds": 3601}}}"#,
            field: "spec.behavior.scaleUp.stabilizationWindowSeconds"),
    ])
    func rejects(_ row: InvalidRow) throws {
        let spec = try JSONDecoder().decode(HPASpec.self, from: Data(row.json.utf8))
        #expect(throws: HPASpecError.self) { try spec.validate() }
        do {
            try spec.validate()
        } catch {
            #expect(error.field == row.field)
        }
    }
}
