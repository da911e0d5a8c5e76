import HorizontalScaling
import Testing

/// The replay's own rules: missing pods as the controller counts them, warm-up of added replicas.
struct ReplaySimulationTests {
    static func model(max: Int32 = 4) throws -> HorizontalPodAutoscalerModel {
        try HorizontalPodAutoscalerModel(
            spec: HPASpec(minReplicas: 1, maxReplicas: max, metrics: [.pods("ratio", averageValue: MilliQuantity(milliValue: 1000))]),
            configuration: ControllerConfiguration(downscaleStabilizationWindow: .zero))
    }

    typealias Observation = ReplaySimulation.Observation

    @Test(arguments: [
        ("a gap in b: missing between its values", [["a": 1, "b": 1], ["a": 1], ["a": 1, "b": 1]], [[], ["b"], []]),
        ("b stopped for good: not missing", [["a": 1, "b": 1], ["a": 1], ["a": 1]], [[], [], []]),
        ("b not started yet: not missing", [["a": 1], ["a": 1], ["a": 1, "b": 1]], [[], [], []]),
        ("nothing at all in the middle: both missing", [["a": 1, "b": 1], [:], ["a": 1, "b": 1]], [[], ["a", "b"], []]),
    ] as [(String, [[String: Int64]], [Set<String>])])
    func missingPodsAreThoseWithValuesOnBothSides(_ why: String, values: [[String: Int64]], missing: [Set<String>]) {
        let observations = values.enumerated().map { Observation(time: Double($0.offset) * 15, values: $0.element) }
        #expect(ReplaySimulation.markMissing(observations).map(\.missing) == missing, "\(why)")
    }

    @Test func missingPodsBeyondTheLookAroundAreGone() {
        let observations = [Observation(time: 0, values: ["a": 1, "b": 1]), Observation(time: 400, values: ["a": 1]), Observation(time: 800, values: ["a": 1, "b": 1])]
        #expect(ReplaySimulation.markMissing(observations, within: 300).map(\.missing) == [[], [], []])
    }

    /// Four pods at the target, then a scrape gap leaves one pod's value of 200m: spread over four replicas
    /// (50m) it scales to 1; as the controller counts the three missing pods (at the target on a scale
    /// down: (200 + 3 × 1000) / 4 = 800m, ceil(0.8 × 4) = 4) it holds.
    @Test(arguments: [
        (LoadModel.even, [Int32(4), 4, 4], [Int32(4), 4, 4]),
        (LoadModel.closedLoop, [Int32(4), 4, 4], [Int32(4), 4, 4]),
    ])
    func aGapHoldsLikeTheController(loadModel: LoadModel, replicas: [Int32], desired: [Int32]) throws {
        let full = ["a": Int64(1000), "b": 1000, "c": 1000, "d": 1000]
        let load = Dictionary(uniqueKeysWithValues: full.keys.map { ($0, PodLoad(inServerSeconds: 2, computeSeconds: 1)) })
        let observations = [
            Observation(time: 0, values: full, load: load),
            Observation(time: 15, values: ["a": 200], load: ["a": PodLoad(inServerSeconds: 1.2, computeSeconds: 1)]),
            Observation(time: 30, values: full, load: load),
        ]
        var simulation = ReplaySimulation(model: try Self.model(), initialReplicas: 4, loadModel: loadModel)
        let steps = simulation.run(observations)
        #expect(steps.map(\.replicas) == replicas)
        #expect(steps.map(\.desiredReplicas) == desired)
        #expect(steps.map(\.missingPods) == [0, 3, 0])
    }

    @Test func withoutTheMissingPodRuleTheGapScalesDown() throws {
        // `step` alone does not mark missing pods: the known pod's 200m is spread over all four replicas.
        var simulation = ReplaySimulation(model: try Self.model(), initialReplicas: 4)
        _ = simulation.step(Observation(time: 0, values: ["a": 1000, "b": 1000, "c": 1000, "d": 1000]), since: 0)
        let step = simulation.step(Observation(time: 15, values: ["a": 200]), since: 0)
        #expect(step.simulatedValue == 50)
        #expect(step.desiredReplicas == 1, "\(step.reason)")
    }

    /// 8 clients: one replica reads 7 and scales to 4 (max) at the first sync; with a 30 s warm-up the
    /// three new replicas take no load at the next sync (15 s later), so the ready one still reads 7.
    @Test(arguments: [(0.0, [Int64(7000), 1000, 1000]), (30.0, [Int64(7000), 7000, 1000])])
    func warmUpKeepsTheLoadOnTheReadyReplicas(warmUp: Double, values: [Int64]) throws {
        let observations = (0..<3).map { index in
            Observation(time: Double(index) * 15, values: ["a": 7000], load: ["a": PodLoad(inServerSeconds: 8, computeSeconds: 1)])
        }
        var simulation = ReplaySimulation(model: try Self.model(), loadModel: .closedLoop, warmUp: warmUp)
        let steps = simulation.run(observations)
        #expect(steps.map(\.simulatedValue) == values)
        #expect(steps.map(\.replicas) == [1, 4, 4])
    }
}
