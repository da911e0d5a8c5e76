import HorizontalScaling
import Testing

/// The replica proposal of one `Object` metric. The documentation: "For object metrics and
/// external metrics, a single metric is fetched, which describes the object in question. This
/// metric is compared to the target value, to produce a ratio as above. In the autoscaling/v2 API
/// version, this value can optionally be divided by the number of Pods before the comparison is
/// made." (https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/)
struct ObjectMetricTests {
    struct ValueRow: CustomTestStringConvertible, Sendable {
        let rule: String
        let current: Int32
        let pods: [PodSnapshot]
        let valueMilli: Int64
        let targetMilli: Int64
        let replicas: Int32?
        let outcome: MetricEvaluation.Outcome
        var testDescription: String { rule }
    }

    static func pods(ready: [Bool]) -> [PodSnapshot] {
        ready.enumerated().map { PodSnapshot(name: "p\($0.offset)", isReady: $0.element) }
    }

    @Test(arguments: [
        ValueRow(
            rule: "Value target: ratio = value / target, ceil(20/15 × 3 ready pods) = 4",
            current: 3, pods: pods(ready: [true, true, true]), valueMilli: 20000, targetMilli: 15000,
            replicas: 4, outcome: .scaled),
        ValueRow(
            rule: "Value target: only Running and Ready pods multiply the ratio, ceil(5 × 1) = 5",
            current: 3, pods: pods(ready: [false, true, false]), valueMilli: 50000, targetMilli: 10000,
            replicas: 5, outcome: .scaled),
        ValueRow(
            rule: "Value target: scale down, ceil(0.6 × 5) = 3",
            current: 5, pods: pods(ready: [true, true, true, true, true]), valueMilli: 12000, targetMilli: 20000,
            replicas: 3, outcome: .scaled),
        ValueRow(
            rule: "Value target: within the 0.1 tolerance (20666 / 20000)",
            current: 3, pods: pods(ready: [true, true, true]), valueMilli: 20666, targetMilli: 20000,
            replicas: 3, outcome: .withinTolerance),
        ValueRow(
            rule: "Value target: a huge value saturates at MaxInt32",
            current: 3, pods: pods(ready: [true, true, true]), valueMilli: .max, targetMilli: 1,
            replicas: .max, outcome: .scaled),
        ValueRow(
            rule: "Value target: a terminating pod that is still Running and Ready is counted",
            current: 2, pods: [PodSnapshot(name: "a"), PodSnapshot(name: "b", isTerminating: true)],
            valueMilli: 3000, targetMilli: 1000, replicas: 6, outcome: .scaled),
        ValueRow(
            rule: "Value target: no pods outside the tolerance is an error",
            current: 2, pods: [], valueMilli: 3000, targetMilli: 1000, replicas: nil,
            outcome: .failed(
                "unable to calculate ready pods: no pods returned by selector while calculating replica count")),
    ])
    func value(_ row: ValueRow) {
        let evaluation = ReplicaCalculator().objectValue(
            "Service metric m", targetMilli: row.targetMilli, valueMilli: row.valueMilli,
            currentReplicas: row.current, pods: row.pods)
        #expect(evaluation.proposedReplicas == row.replicas)
        #expect(evaluation.outcome == row.outcome)
    }

    struct AverageRow: CustomTestStringConvertible, Sendable {
        let rule: String
        let statusReplicas: Int32
        let valueMilli: Int64
        let targetMilli: Int64
        var tolerances = Tolerances(0.1)
        let replicas: Int32
        let usage: Int64
        var testDescription: String { rule }
    }

    @Test(arguments: [
        AverageRow(
            rule: "AverageValue target: desired = ceil(value / averageValue) = ceil(20 / 5) = 4",
            statusReplicas: 3, valueMilli: 20000, targetMilli: 5000, replicas: 4, usage: 6667),
        AverageRow(
            rule: "AverageValue target: scale down to ceil(6 / 2) = 3",
            statusReplicas: 5, valueMilli: 6000, targetMilli: 2000, replicas: 3, usage: 1200),
        AverageRow(
            rule: "AverageValue target: tolerance on value / (averageValue × replicas) = 1.0083 holds 4",
            statusReplicas: 4, valueMilli: 20166, targetMilli: 5000, replicas: 4, usage: 5042),
        AverageRow(
            rule: "AverageValue target: a 1% scale-up tolerance lets 1.0104 scale to ceil(4.0416) = 5",
            statusReplicas: 4, valueMilli: 20208, targetMilli: 5000,
            tolerances: Tolerances(scaleDown: 0.1, scaleUp: 0.01), replicas: 5, usage: 5052),
    ])
    func averageValue(_ row: AverageRow) {
        let evaluation = ReplicaCalculator(tolerances: row.tolerances).objectAverageValue(
            "Service metric m", targetMilli: row.targetMilli, valueMilli: row.valueMilli,
            statusReplicas: row.statusReplicas)
        #expect(evaluation.proposedReplicas == row.replicas)
        #expect(evaluation.usageMilli == row.usage)
    }
}
