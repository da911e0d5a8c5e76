import HorizontalScaling
import Testing

/// Stabilization windows: "the scale recommendation is recorded. The controller considers all
/// recommendations within a configurable window choosing the highest recommendation from within
/// that window. This value can be configured using the
/// `--horizontal-pod-autoscaler-downscale-stabilization` flag, which defaults to 5 minutes."
/// (https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#algorithm-details)
struct StabilizationTests {
    struct Row: CustomTestStringConvertible, Sendable {
        let rule: String
        let behavior: HorizontalPodAutoscalerBehavior?
        let current: Int32
        /// One proposal per 15-second sync, starting at t=0.
        let proposals: [Int64]
        /// `(sync index, desired replicas)` checkpoints.
        let expected: [(Int, Int32)]
        var testDescription: String { rule }
    }

    static let holdThenDrop: [Int64] = [4] + Array(repeating: 1, count: 22)

    static let rows: [Row] = [
        Row(
            rule: "no behavior: the highest recommendation of the last 300 s holds a scale-down; a sample exactly 300 s old still counts",
            behavior: nil, current: 4, proposals: holdThenDrop,
            expected: [(0, 4), (1, 4), (19, 4), (20, 4), (21, 1), (22, 1)]),
        Row(
            rule: "behavior with default scaleDown (stabilizationWindowSeconds: 300): a sample exactly 300 s old no longer counts",
            behavior: HorizontalPodAutoscalerBehavior(), current: 4, proposals: holdThenDrop,
            expected: [(0, 4), (1, 4), (19, 4), (20, 1), (21, 1)]),
        Row(
            rule: "scaleDown stabilizationWindowSeconds: 60 (docs: change downscale stabilization window)",
            behavior: HorizontalPodAutoscalerBehavior(scaleDown: HPAScalingRules(stabilizationWindowSeconds: 60)),
            current: 4, proposals: holdThenDrop, expected: [(3, 4), (4, 1)]),
        Row(
            rule: "a new controller records the current count first: even a first low proposal waits a full window",
            behavior: nil, current: 4, proposals: Array(repeating: 1, count: 22),
            expected: [(0, 4), (20, 4), (21, 1)]),
        Row(
            rule: "flapping metrics: the rolling maximum keeps the count (the window avoids thrashing)",
            behavior: nil, current: 5, proposals: [5, 2, 5, 2, 5, 2, 5, 2],
            expected: [(1, 5), (3, 5), (5, 5), (7, 5)]),
        Row(
            rule: "For scaling up there is no stabilization window by default: scaled up immediately",
            behavior: HorizontalPodAutoscalerBehavior(), current: 2, proposals: [2, 6],
            expected: [(0, 2), (1, 6)]),
        Row(
            rule: "scaleUp stabilizationWindowSeconds: 60 applies the lowest recent recommendation",
            behavior: HorizontalPodAutoscalerBehavior(scaleUp: HPAScalingRules(stabilizationWindowSeconds: 60)),
            current: 2, proposals: [2, 6, 6, 6, 6, 6],
            expected: [(1, 2), (3, 2), (4, 6)]),
    ]

    @Test(arguments: rows)
    func window(_ row: Row) throws {
        var model = try Replay.model(max: 10, behavior: row.behavior)
        let decisions = Replay.run(&model, from: row.current, proposals: row.proposals)
        for (index, desired) in row.expected {
            #expect(decisions[index].desiredReplicas == desired, "sync \(index) at t=\(index * 15)s")
        }
    }

    @Test func heldScaleDownSaysWhy() throws {
        var model = try Replay.model(max: 10)
        let decisions = Replay.run(&model, from: 4, proposals: [4, 1])
        #expect(decisions[1].reason == .stabilized(.down, windowSeconds: 300, recommendation: 4))
        #expect(decisions[1].ableToScaleReason == "ScaleDownStabilized")
        #expect(decisions[1].metricReplicas == 1)
        #expect(decisions[1].stabilizedReplicas == 4)
        #expect(decisions[1].description.hasPrefix(
            "t=15s 4 → 4: stabilized by the scale-down window 300s (highest recent recommendation 4)"))
    }

    @Test func heldScaleUpSaysWhy() throws {
        var model = try Replay.model(
            max: 10, behavior: HorizontalPodAutoscalerBehavior(scaleUp: HPAScalingRules(stabilizationWindowSeconds: 60)))
        let decisions = Replay.run(&model, from: 2, proposals: [2, 6])
        #expect(decisions[1].reason == .stabilized(.up, windowSeconds: 60, recommendation: 2))
        #expect(decisions[1].ableToScaleReason == "ScaleUpStabilized")
    }

    /// The controller flag changes the window when the HPA has no behavior of its own.
    @Test func downscaleStabilizationFlag() throws {
        var model = try HorizontalPodAutoscalerModel(
            spec: Replay.spec(max: 10),
            configuration: ControllerConfiguration(tolerance: 0, downscaleStabilizationWindow: .seconds(30)))
        let decisions = Replay.run(&model, from: 4, proposals: [4, 1, 1, 1])
        #expect(decisions.map(\.desiredReplicas) == [4, 4, 4, 1])
    }
}
