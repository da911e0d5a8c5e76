import HorizontalScaling
import Testing

/// The replica proposal of one `Pods` metric (`calcPlainMetricReplicas`), row by row against the
/// documented algorithm: https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#algorithm-details
struct PodsMetricTests {
    struct Row: CustomTestStringConvertible, Sendable {
        /// The documented rule the row checks (quoted from the page above, or the controller).
        let rule: String
        var current: Int32
        var targetMilli: Int64 = 1000
        var pods: [PodSnapshot]
        var items: [PodMetricValue]
        var replicas: Int32?
        var usage: Int64?
        var outcome: MetricEvaluation.Outcome
        var testDescription: String { rule }
    }

    static func running(_ count: Int) -> [PodSnapshot] {
        (0..<count).map { PodSnapshot(name: "p\($0)") }
    }

    static func values(_ milli: Int64...) -> [PodMetricValue] {
        milli.enumerated().map { PodMetricValue(podName: "p\($0.offset)", milliValue: $0.element) }
    }

    static let rows: [Row] = [
        Row(
            rule: "desiredReplicas = ceil[currentReplicas * ( currentMetricValue / desiredMetricValue )]: avg 20 of target 15 on 3 pods → 4",
            current: 3, targetMilli: 15000, pods: running(3), items: values(20000, 10000, 30000),
            replicas: 4, usage: 20000, outcome: .scaled),
        Row(
            rule: "if the current metric value is 200m, and the desired value is 100m, the number of replicas will be doubled",
            current: 2, targetMilli: 100, pods: running(2), items: values(200, 200),
            replicas: 4, usage: 200, outcome: .scaled),
        Row(
            rule: "If the current value is instead 50m, you'll halve the number of replicas",
            current: 4, targetMilli: 100, pods: running(4), items: values(50, 50, 50, 50),
            replicas: 2, usage: 50, outcome: .scaled),
        Row(
            rule: "skips any scaling action if the ratio is sufficiently close to 1.0 (tolerance 0.1): 20666m of 20000m",
            current: 3, targetMilli: 20000, pods: running(3), items: values(20000, 21000, 21000),
            replicas: 3, usage: 20666, outcome: .withinTolerance),
        Row(
            rule: "tolerance is inclusive (1 - 0.1 <= ratio <= 1 + 0.1): 1100m of 1000m holds",
            current: 2, pods: running(2), items: values(1100, 1100),
            replicas: 2, usage: 1100, outcome: .withinTolerance),
        Row(
            rule: "tolerance: 1101m of 1000m is outside, ceil(1.101 × 2) = 3",
            current: 2, pods: running(2), items: values(1101, 1101),
            replicas: 3, usage: 1101, outcome: .scaled),
        Row(
            rule: "tolerance is inclusive below: 900m of 1000m holds",
            current: 10, pods: running(10), items: values(900, 900, 900, 900, 900, 900, 900, 900, 900, 900),
            replicas: 10, usage: 900, outcome: .withinTolerance),
        Row(
            rule: "tolerance: 899m of 1000m is outside, ceil(0.899 × 10) = 9",
            current: 10, pods: running(10), items: values(899, 899, 899, 899, 899, 899, 899, 899, 899, 899),
            replicas: 9, usage: 899, outcome: .scaled),
        Row(
            rule: "the average is an integer division of milli-units: (1m + 2m) / 2 = 1m, within tolerance of 1m",
            current: 2, targetMilli: 1, pods: running(2), items: values(1, 2),
            replicas: 2, usage: 1, outcome: .withinTolerance),
        Row(
            rule: "missing metrics: assume those pods were consuming 100% of the desired value in case of a scale down",
            current: 4, pods: running(4), items: values(100, 100),
            replicas: 3, usage: 100, outcome: .rebalanced),
        Row(
            rule: "missing metrics: assume those pods were consuming 0% in case of a scale up",
            current: 4, pods: running(4), items: values(3000, 3000),
            replicas: 6, usage: 3000, outcome: .rebalanced),
        Row(
            rule: "If the new ratio reverses the scale direction, the controller doesn't take any scaling action (1500m, two pods missing)",
            current: 3, pods: running(3), items: values(1500),
            replicas: 3, usage: 1500, outcome: .rebalancedReversedDirection),
        Row(
            rule: "If the new ratio is within the tolerance, the controller doesn't take any scaling action (3 × 1200m, one missing → 900m)",
            current: 4, pods: running(4), items: values(1200, 1200, 1200),
            replicas: 4, usage: 1200, outcome: .rebalancedWithinTolerance),
        Row(
            rule: "controller: rolling update with maxSurge, extra pod missing a metric would scale 2 → 3 on a scale-down ratio: hold",
            current: 2, targetMilli: 17000, pods: running(3), items: values(10000, 10000),
            replicas: 2, usage: 10000, outcome: .rebalancedReplicasReversedDirection),
        Row(
            rule: "no change when missing metrics leave the average exactly at target (controller: 'no change: missing metrics')",
            current: 5, targetMilli: 20000, pods: running(5), items: values(20000, 19000, 21000),
            replicas: 5, usage: 20000, outcome: .rebalancedWithinTolerance),
        Row(
            rule: "not-yet-ready (Pending) pods count as 0% on a scale-up: 2100m with one pending pod rebalances to 1050m, within tolerance",
            current: 2,
            pods: [PodSnapshot(name: "p0"), PodSnapshot(name: "p1", phase: .pending, isReady: false)],
            items: values(2100),
            replicas: 2, usage: 2100, outcome: .rebalancedWithinTolerance),
        Row(
            rule: "Pending pods are set aside on a scale-down: ceil(0.2 × 2 ready pods) = 1",
            current: 3,
            pods: running(2) + [PodSnapshot(name: "p2", phase: .pending, isReady: false)],
            items: values(200, 200, 5000),
            replicas: 1, usage: 200, outcome: .scaled),
        Row(
            rule: "All Pods with a deletion timestamp set are ignored, and all failed Pods are discarded (Succeeded too, since 2026)",
            current: 3,
            pods: running(3) + [
                PodSnapshot(name: "p3", isTerminating: true), PodSnapshot(name: "p4", phase: .failed, isReady: false),
                PodSnapshot(name: "p5", phase: .succeeded, isReady: false),
            ],
            items: values(2000, 2000, 2000, 0),
            replicas: 6, usage: 2000, outcome: .scaled),
        Row(
            rule: "readiness is only checked for CPU: a Running, not Ready pod with a value counts",
            current: 1, pods: [PodSnapshot(name: "p0", isReady: false)], items: values(3000),
            replicas: 3, usage: 3000, outcome: .scaled),
        Row(
            rule: "every item counts: a value for a pod outside the selector skews the average (2000m), ceil(2 × 2 ready) = 4",
            current: 2, pods: running(2),
            items: values(1000, 1000) + [PodMetricValue(podName: "other-deployment-pod", milliValue: 4000)],
            replicas: 4, usage: 2000, outcome: .scaled),
        Row(
            rule: "a second item for the same pod replaces the first (the controller keys values by pod name)",
            current: 2, pods: running(2),
            items: [PodMetricValue(podName: "p0", milliValue: 5000)] + values(1000, 1000),
            replicas: 2, usage: 1000, outcome: .withinTolerance),
        Row(
            rule: "an empty list is an error: no metrics returned from custom metrics API",
            current: 2, pods: running(2), items: [],
            outcome: .failed("unable to get metric: no metrics returned from custom metrics API")),
        Row(
            rule: "no pods matching the selector is an error",
            current: 2, pods: [], items: values(1000),
            outcome: .failed("no pods returned by selector while calculating replica count")),
        Row(
            rule: "values only for pending pods: did not receive metrics for targeted pods",
            current: 1, pods: [PodSnapshot(name: "p0", phase: .pending, isReady: false)], items: values(1000),
            outcome: .failed("did not receive metrics for targeted pods (pods might be unready)")),
    ]

    @Test(arguments: rows)
    func proposal(_ row: Row) {
        let evaluation = ReplicaCalculator().podsMetric(
            "pods metric m", targetMilli: row.targetMilli, currentReplicas: row.current, items: row.items,
            pods: row.pods)
        #expect(evaluation.outcome == row.outcome)
        #expect(evaluation.proposedReplicas == row.replicas)
        #expect(evaluation.usageMilli == row.usage)
    }

    /// Per-direction tolerances (`behavior.scaleUp.tolerance`, feature gate HPAConfigurableTolerance).
    @Test(arguments: [
        (Tolerances(scaleDown: 0.1, scaleUp: 0.01), Int32(4), MetricEvaluation.Outcome.scaled),
        (Tolerances(scaleDown: 0.1, scaleUp: 0.1), Int32(3), MetricEvaluation.Outcome.withinTolerance),
    ])
    func configurableTolerance(tolerances: Tolerances, replicas: Int32, outcome: MetricEvaluation.Outcome) {
        let evaluation = ReplicaCalculator(tolerances: tolerances).podsMetric(
            "pods metric m", targetMilli: 20000, currentReplicas: 3, items: Self.values(20000, 21000, 21000),
            pods: Self.running(3))
        #expect(evaluation.proposedReplicas == replicas)
        #expect(evaluation.outcome == outcome)
    }

    /// `GetMetricUsageRatio` falls back to exact arithmetic when the sum overflows 64 bits.
    @Test func averageIsExactWhenTheSumOverflows() {
        #expect(ReplicaCalculator.averageUsage([Int64.max, Int64.max]) == Int64.max)
        #expect(ReplicaCalculator.averageUsage([Int64.max, 1]) == Int64.max / 2 + 1)
        #expect(ReplicaCalculator.averageUsage([-3, 0]) == -1)
    }
}
