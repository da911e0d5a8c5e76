import HorizontalScaling
import Testing

/// Whole syncs: bounds, metric failures, several metrics, and the explanation a replay prints.
struct HorizontalPodAutoscalerModelTests {
    static let triton = HPASpec(
        minReplicas: 1, maxReplicas: 4,
        metrics: [.pods("triton:queue_compute:ratio", averageValue: MilliQuantity(milliValue: 1000))])

    static func pods(_ count: Int) -> [PodSnapshot] {
        (0..<count).map { PodSnapshot(name: "triton-\($0)") }
    }

    static func values(_ milli: Int64...) -> MetricReading {
        .pods(milli.enumerated().map { PodMetricValue(podName: "triton-\($0.offset)", milliValue: $0.element) })
    }

    struct Row: CustomTestStringConvertible, Sendable {
        let rule: String
        let current: Int32
        let metrics: [MetricReading]
        let desired: Int32
        let reason: DecisionReason
        var testDescription: String { rule }
    }

    static let serviceRef = CrossVersionObjectReference(kind: "Service", name: "frontend")
    static let twoMetrics = HPASpec(
        minReplicas: 1, maxReplicas: 10,
        metrics: [
            .pods("triton:queue_compute:ratio", averageValue: MilliQuantity(milliValue: 1000)),
            .object("requests", describedObject: serviceRef,
                    target: MetricTarget(type: .value, value: MilliQuantity(milliValue: 1000))),
        ])

    @Test(arguments: [
        Row(
            rule: "ratio 2.0 on two pods: ceil(2 × 2) = 4 (\"above target\")",
            current: 2, metrics: [values(2000, 2000)], desired: 4,
            reason: .scaled(.up, metric: "pods metric triton:queue_compute:ratio")),
        Row(
            rule: "ratio 1.05: within tolerance, nothing changes",
            current: 2, metrics: [values(1050, 1050)], desired: 2,
            reason: .withinTolerance(metric: "pods metric triton:queue_compute:ratio")),
        Row(
            rule: "desired replicas are clamped to maxReplicas (TooManyReplicas)",
            current: 2, metrics: [values(9000, 9000)], desired: 4, reason: .limitedByMaxReplicas(4)),
        Row(
            rule: "An empty list is an error (\"no metrics returned\"): it holds the replica count",
            current: 3, metrics: [.pods([])], desired: 3,
            reason: .metricsUnavailable(
                "invalid metrics (1 invalid out of 1), first error is: unable to get metric: no metrics returned from custom metrics API")),
        Row(
            rule: "Prometheus unreachable (503 from the adapter): hold, never treat as 0",
            current: 3, metrics: [.unavailable(reason: "the server is currently unable to handle the request")],
            desired: 3,
            reason: .metricsUnavailable(
                "invalid metrics (1 invalid out of 1), first error is: unable to get metric: the server is currently unable to handle the request")),
        Row(
            rule: "the target had more replicas than maxReplicas: scale to maxReplicas without metrics",
            current: 6, metrics: [], desired: 4, reason: .aboveMaxReplicas(4)),
        Row(
            rule: "If the target's desired replica count is set to 0 [...] the HPA stops adjusting the target",
            current: 0, metrics: [values(5000)], desired: 0, reason: .scalingDisabled),
    ])
    func sync(_ row: Row) throws {
        var model = try HorizontalPodAutoscalerModel(spec: Self.triton)
        let decision = model.decide(
            at: .seconds(0), currentReplicas: row.current, pods: Self.pods(Int(row.current)), metrics: row.metrics)
        #expect(decision.desiredReplicas == row.desired)
        #expect(decision.reason == row.reason)
    }

    @Test func belowMinReplicasScalesUpWithoutMetrics() throws {
        var model = try HorizontalPodAutoscalerModel(
            spec: HPASpec(minReplicas: 2, maxReplicas: 4, metrics: Self.triton.metrics))
        let decision = model.decide(at: .zero, currentReplicas: 1, pods: Self.pods(1), metrics: [])
        #expect(decision.desiredReplicas == 2)
        #expect(decision.reason == .belowMinReplicas(2))
    }

    struct MultiRow: CustomTestStringConvertible, Sendable {
        let rule: String
        let metrics: [MetricReading]
        let desired: Int32
        var testDescription: String { rule }
    }

    @Test(arguments: [
        MultiRow(
            rule: "this calculation is done for each metric, and then the largest of the desired replica counts is chosen",
            metrics: [values(1000, 1000, 1000), .object(milliValue: 2000)], desired: 6),
        MultiRow(
            rule: "the HPA is still capable of scaling up if one or more metrics give a desiredReplicas greater than the current value",
            metrics: [values(2000, 2000, 2000), .unavailable(reason: "not found")], desired: 6),
        MultiRow(
            rule: "If any of these metrics cannot be converted [...] and a scale down is suggested by the metrics which can be fetched, scaling is skipped",
            metrics: [values(100, 100, 100), .unavailable(reason: "not found")], desired: 3),
        MultiRow(
            rule: "a missing reading counts as a failed metric",
            metrics: [values(100, 100, 100)], desired: 3),
    ])
    func severalMetrics(_ row: MultiRow) throws {
        var model = try HorizontalPodAutoscalerModel(
            spec: Self.twoMetrics,
            configuration: ControllerConfiguration(downscaleStabilizationWindow: .zero))
        let decision = model.decide(at: .seconds(15), currentReplicas: 3, pods: Self.pods(3), metrics: row.metrics)
        #expect(decision.desiredReplicas == row.desired)
        #expect(decision.evaluations.count == 2)
    }

    /// `behavior.scaleUp.tolerance` (feature gate HPAConfigurableTolerance) narrows the band.
    @Test(arguments: [(true, Int32(4)), (false, Int32(3))])
    func behaviorTolerance(gateEnabled: Bool, desired: Int32) throws {
        let spec = HPASpec(
            minReplicas: 1, maxReplicas: 10, metrics: Self.triton.metrics,
            behavior: HorizontalPodAutoscalerBehavior(
                scaleUp: HPAScalingRules(tolerance: try MilliQuantity(parsing: "0.01"))))
        var model = try HorizontalPodAutoscalerModel(
            spec: spec, configuration: ControllerConfiguration(configurableTolerance: gateEnabled))
        let decision = model.decide(
            at: .zero, currentReplicas: 3, pods: Self.pods(3), metrics: [Self.values(1050, 1050, 1050)])
        #expect(decision.desiredReplicas == desired)
    }

    @Test func replayLineExplainsTheDecision() throws {
        var model = try HorizontalPodAutoscalerModel(spec: Self.triton)
        let decision = model.decide(
            at: .seconds(45), currentReplicas: 2, pods: Self.pods(2), metrics: [Self.values(1500, 2500)])
        #expect(
            decision.description
                == "t=45s 2 → 4: scale up: pods metric triton:queue_compute:ratio above target (proposed 4, stabilized 4) "
                + "[pods metric triton:queue_compute:ratio: 2 / 1 = 2.000 → 4 (scaled)]")
        #expect(decision.isRescale)
        #expect(decision.ableToScaleReason == "ReadyForNewScale")
        #expect(decision.scalingLimitedReason == "DesiredWithinRange")
    }

    /// Stabilization and a limit can both move the count; the replay line names both, in order.
    @Test func replayLineNamesEveryAdjustment() throws {
        var model = try HorizontalPodAutoscalerModel(spec: Self.triton)
        let missingTwo = [Self.values(3000, 2000)]
        _ = model.decide(at: .zero, currentReplicas: 4, pods: Self.pods(4), metrics: missingTwo)
        let decision = model.decide(at: .seconds(15), currentReplicas: 4, pods: Self.pods(4), metrics: [Self.values(100, 200)])
        #expect(decision.metricReplicas == 3)
        #expect(decision.stabilizedReplicas == 5)
        #expect(decision.reason == .limitedByMaxReplicas(4))
        #expect(
            decision.description.hasPrefix(
                "t=15s 4 → 4: stabilized by the scale-down window 300s (highest recent recommendation 5); "
                    + "then limited by maxReplicas 4 (proposed 3, stabilized 5)"))
    }

    @Test func scaleEventsAreRecordedOnlyWithBehavior() throws {
        var withoutBehavior = try Replay.model(max: 10)
        _ = Replay.run(&withoutBehavior, from: 2, proposals: [4])
        #expect(withoutBehavior.history.scaleUpEvents.isEmpty)

        var withBehavior = try Replay.model(max: 10, behavior: HorizontalPodAutoscalerBehavior())
        _ = Replay.run(&withBehavior, from: 2, proposals: [4])
        #expect(withBehavior.history.scaleUpEvents.map(\.replicaChange) == [2])
    }

    @Test func defaultsAreCompletedFieldByField() throws {
        let model = try HorizontalPodAutoscalerModel(
            spec: Replay.spec(max: 10, behavior: HorizontalPodAutoscalerBehavior(
                scaleDown: HPAScalingRules(policies: [HPAScalingPolicy.pods(1, per: 120)]))))
        #expect(model.scaleUpRules == .defaultScaleUp)
        #expect(model.scaleDownRules == ScalingRules(stabilizationWindowSeconds: 300, policies: [.pods(1, per: 120)]))
    }
}
