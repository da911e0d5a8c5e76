/// The per-metric replica calculation of the HPA controller (`replica_calculator.go`), for
/// `Pods` and `Object` metrics, as pure functions of what the controller reads.
///
/// Arithmetic follows the controller step for step because the steps change results: the pod
/// average is an *integer* division of the milli-unit sum, the ratio is then a `Double`, and the
/// proposal is `ceil(ratio × count)`. Rounding the average first is why `1000m, 1000m, 1001m`
/// averages to `1000m` and not `1000.33m`.
public struct ReplicaCalculator: Sendable, Equatable {
    /// The band around a ratio of 1 that proposes no change.
    public var tolerances: Tolerances

    public init(tolerances: Tolerances = Tolerances(0.1)) {
        self.tolerances = tolerances
    }

    /// `GetMetricReplicas` / `calcPlainMetricReplicas`: a `Pods` metric with an `AverageValue`
    /// target.
    ///
    /// Pods that are terminating, `Failed` or `Succeeded` are dropped with their values; `Pending`
    /// pods are set aside and count as 0 when the metric would scale up; pods with no value count
    /// as the target on a scale-down and as 0 on a scale-up. If filling them in brings the ratio
    /// within the tolerance, or reverses the direction, nothing changes.
    ///
    /// - Parameters:
    ///   - metric: The name used in messages.
    ///   - targetMilli: `target.averageValue` in milli-units (positive).
    ///   - currentReplicas: The scale target's `spec.replicas`.
    ///   - items: The metrics API's answer, in order.
    ///   - pods: The pods the scale target's selector matches.
    public func podsMetric(
        _ metric: String, targetMilli: Int64, currentReplicas: Int32, items: [PodMetricValue],
        pods: [PodSnapshot]
    ) -> MetricEvaluation {
        guard !items.isEmpty else {
            return .failure(
                metric, targetMilli: targetMilli,
                "unable to get metric: no metrics returned from custom metrics API")
        }
        guard !pods.isEmpty else {
            return .failure(
                metric, targetMilli: targetMilli, "no pods returned by selector while calculating replica count")
        }
        var values: [String: Int64] = [:]
        for item in items { values[item.podName] = item.milliValue }

        var readyPodCount = 0
        var unready = Set<String>()
        var missing = Set<String>()
        for pod in pods {
            if pod.isTerminating || pod.phase == .failed || pod.phase == .succeeded {
                values[pod.name] = nil
            } else if pod.phase == .pending {
                unready.insert(pod.name)
            } else if values[pod.name] == nil {
                missing.insert(pod.name)
            } else {
                readyPodCount += 1
            }
        }
        for name in unready { values[name] = nil }
        guard !values.isEmpty else {
            return .failure(
                metric, targetMilli: targetMilli, "did not receive metrics for targeted pods (pods might be unready)")
        }

        let usage = Self.averageUsage(values.values)
        let ratio = Double(usage) / Double(targetMilli)
        var evaluation = MetricEvaluation(
            metric: metric, targetMilli: targetMilli, usageMilli: usage, ratio: ratio,
            proposedReplicas: currentReplicas, outcome: .withinTolerance)

        let scaleUpWithUnready = !unready.isEmpty && ratio > 1.0
        if !scaleUpWithUnready && missing.isEmpty {
            if !tolerances.contains(ratio) {
                evaluation.proposedReplicas = Self.ceilToReplicas(ratio * Double(readyPodCount))
                evaluation.outcome = .scaled
            }
            return evaluation
        }

        return rebalanced(
            evaluation, values: values, missing: missing, unready: unready, scaleUpWithUnready: scaleUpWithUnready,
            currentReplicas: currentReplicas
        )
    }

    /// The second pass of `GetMetricReplicas` when pods had no value or were unready: missing pods count
    /// as the target on a scale-down and as 0 on a scale-up, unready pods as 0 on a scale-up; the
    /// proposal stands only if it keeps the first pass' direction.
    private func rebalanced(
        _ first: MetricEvaluation, values: [String: Int64], missing: Set<String>, unready: Set<String>,
        scaleUpWithUnready: Bool, currentReplicas: Int32
    ) -> MetricEvaluation {
        var evaluation = first
        var values = values
        let ratio = first.ratio ?? 1
        let targetMilli = first.targetMilli
        if ratio < 1.0 {
            for name in missing { values[name] = targetMilli }
        } else if ratio > 1.0 {
            for name in missing { values[name] = 0 }
        }
        if scaleUpWithUnready {
            for name in unready { values[name] = 0 }
        }
        let newRatio = Double(Self.averageUsage(values.values)) / Double(targetMilli)
        evaluation.rebalancedRatio = newRatio

        if tolerances.contains(newRatio) {
            evaluation.outcome = .rebalancedWithinTolerance
        } else if (ratio < 1.0 && newRatio > 1.0) || (ratio > 1.0 && newRatio < 1.0) {
            evaluation.outcome = .rebalancedReversedDirection
        } else {
            let newReplicas = Self.ceilToReplicas(newRatio * Double(values.count))
            if (newRatio < 1.0 && newReplicas > currentReplicas) || (newRatio > 1.0 && newReplicas < currentReplicas) {
                evaluation.outcome = .rebalancedReplicasReversedDirection
            } else {
                evaluation.proposedReplicas = newReplicas
                evaluation.outcome = .rebalanced
            }
        }
        return evaluation
    }

    /// `GetObjectMetricReplicas`: an `Object` metric with a `Value` target.
    ///
    /// `ceil(value / target × ready pods)`, where ready pods are `Running` with `Ready=True`
    /// (terminating pods included, as the controller counts them).
    public func objectValue(
        _ metric: String, targetMilli: Int64, valueMilli: Int64, currentReplicas: Int32, pods: [PodSnapshot]
    ) -> MetricEvaluation {
        let ratio = Double(valueMilli) / Double(targetMilli)
        var evaluation = MetricEvaluation(
            metric: metric, targetMilli: targetMilli, usageMilli: valueMilli, ratio: ratio,
            proposedReplicas: currentReplicas, outcome: .withinTolerance)
        guard currentReplicas != 0 else {
            evaluation.proposedReplicas = Self.ceilToReplicas(ratio)
            evaluation.outcome = .scaled
            return evaluation
        }
        if tolerances.contains(ratio) { return evaluation }
        guard !pods.isEmpty else {
            return .failure(
                metric, targetMilli: targetMilli,
                "unable to calculate ready pods: no pods returned by selector while calculating replica count")
        }
        let readyPods = pods.count { $0.phase == .running && $0.isReady }
        evaluation.proposedReplicas = Self.ceilToReplicas(ratio * Double(readyPods))
        evaluation.outcome = .scaled
        return evaluation
    }

    /// `GetObjectPerPodMetricReplicas`: an `Object` metric with an `AverageValue` target.
    ///
    /// The tolerance applies to `value / (averageValue × status.replicas)`; outside it the proposal
    /// is `ceil(value / averageValue)`, independent of how many pods are ready.
    public func objectAverageValue(
        _ metric: String, targetMilli: Int64, valueMilli: Int64, statusReplicas: Int32
    ) -> MetricEvaluation {
        let ratio = Double(valueMilli) / (Double(targetMilli) * Double(statusReplicas))
        var evaluation = MetricEvaluation(
            metric: metric, targetMilli: targetMilli,
            usageMilli: Self.perPodUsage(valueMilli, replicas: statusReplicas), ratio: ratio,
            proposedReplicas: statusReplicas, outcome: .withinTolerance)
        if !tolerances.contains(ratio) {
            evaluation.proposedReplicas = Self.ceilToReplicas(Double(valueMilli) / Double(targetMilli))
            evaluation.outcome = .scaled
        }
        return evaluation
    }

    /// `GetMetricUsageRatio`'s average: the exact sum divided by the count, truncated toward zero
    /// (Go integer division), so it is exact even when the sum overflows 64 bits.
    public static func averageUsage(_ values: some Collection<Int64>) -> Int64 {
        guard !values.isEmpty else { return 0 }
        let sum = values.reduce(Int128(0)) { $0 + Int128($1) }
        return Int64(sum / Int128(values.count))
    }

    /// `int32(math.Ceil(x))`, saturating where Go's conversion is undefined.
    static func ceilToReplicas(_ value: Double) -> Int32 {
        let rounded = value.rounded(.up)
        guard rounded.isFinite else { return rounded > 0 ? .max : (rounded < 0 ? .min : 0) }
        if rounded >= Double(Int32.max) { return .max }
        if rounded <= Double(Int32.min) { return .min }
        return Int32(rounded)
    }

    /// The per-replica value the controller reports for an Object `AverageValue` metric.
    static func perPodUsage(_ valueMilli: Int64, replicas: Int32) -> Int64 {
        if Double(valueMilli) >= Double(Int64.max) { return .max }
        guard replicas != 0 else { return 0 }
        return Int64((Double(valueMilli) / Double(replicas)).rounded(.up))
    }
}
