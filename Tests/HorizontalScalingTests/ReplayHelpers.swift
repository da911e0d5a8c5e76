import HorizontalScaling

/// Builds models whose single metric proposes an exact count, so tests of stabilization and
/// policies read as "the metrics ask for N".
///
/// The metric is an Object metric with an `AverageValue` target of 1: the controller proposes
/// `ceil(value / 1)`, independent of pods. The tolerance is 0 so every proposal goes through.
enum Replay {
    static let service = CrossVersionObjectReference(apiVersion: "v1", kind: "Service", name: "frontend")

    static func spec(
        min: Int32? = 1, max: Int32, behavior: HorizontalPodAutoscalerBehavior? = nil
    ) -> HPASpec {
        HPASpec(
            minReplicas: min, maxReplicas: max,
            metrics: [
                .object(
                    "requests", describedObject: service,
                    target: MetricTarget(type: .averageValue, averageValue: MilliQuantity(milliValue: 1000)))
            ],
            behavior: behavior)
    }

    static func model(
        min: Int32? = 1, max: Int32, behavior: HorizontalPodAutoscalerBehavior? = nil
    ) throws -> HorizontalPodAutoscalerModel {
        try HorizontalPodAutoscalerModel(
            spec: spec(min: min, max: max, behavior: behavior),
            configuration: ControllerConfiguration(tolerance: 0))
    }

    /// The reading that makes the model propose `replicas`.
    static func proposing(_ replicas: Int64) -> [MetricReading] {
        [.object(milliValue: replicas * 1000)]
    }

    /// Runs one sync per entry of `proposals`, `step` apart from `start`, applying each decision.
    static func run(
        _ model: inout HorizontalPodAutoscalerModel, from current: Int32, proposals: [Int64],
        start: Duration = .zero, step: Duration = .seconds(15)
    ) -> [Decision] {
        var replicas = current
        var decisions: [Decision] = []
        for (index, proposal) in proposals.enumerated() {
            let decision = model.decide(
                at: start + step * index, currentReplicas: replicas, pods: [], metrics: proposing(proposal))
            decisions.append(decision)
            replicas = decision.desiredReplicas
        }
        return decisions
    }
}

extension HPAScalingPolicy {
    static func pods(_ value: Int32, per seconds: Int32) -> HPAScalingPolicy {
        HPAScalingPolicy(type: .pods, value: value, periodSeconds: seconds)
    }

    static func percent(_ value: Int32, per seconds: Int32) -> HPAScalingPolicy {
        HPAScalingPolicy(type: .percent, value: value, periodSeconds: seconds)
    }
}
