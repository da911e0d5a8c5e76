/// The HPA controller's decision for one autoscaler, replayable sync by sync.
///
/// Each `decide` call is one pass of `reconcileAutoscaler` for `Pods` and `Object` metrics: the
/// per-metric proposals (`ReplicaCalculator`), the largest of them, the stabilization window, then
/// `minReplicas`/`maxReplicas` and the rate limits of `behavior` (or, without `behavior`, the fixed
/// max(2 × current, 4) scale-up cap). The model keeps the controller's in-memory history, so calls
/// must come in time order; time is only what the caller passes, so replays are exact.
///
/// The caller plays the cluster: it reports `spec.replicas`, the pods and what the metrics API
/// answered, and is assumed to apply each decision (the controller records a scale event only when
/// its update succeeds).
public struct HorizontalPodAutoscalerModel: Sendable, Equatable {
    /// The autoscaler being modelled.
    public let spec: HPASpec
    /// The controller flags in effect.
    public let configuration: ControllerConfiguration
    /// Recommendations and scale events remembered between syncs.
    public internal(set) var history = ScaleHistory()
    /// `behavior.scaleUp` completed with defaults; `nil` when the spec has no `behavior`.
    public let scaleUpRules: ScalingRules?
    /// `behavior.scaleDown` completed with defaults; `nil` when the spec has no `behavior`.
    public let scaleDownRules: ScalingRules?

    /// A model of a freshly started controller (empty history) for `spec`.
    ///
    /// - Throws: `HPASpecError` when the spec would not be admitted or uses an unmodelled metric.
    public init(
        spec: HPASpec, configuration: ControllerConfiguration = ControllerConfiguration()
    ) throws(HPASpecError) {
        try spec.validate()
        self.spec = spec
        self.configuration = configuration
        if let behavior = spec.behavior {
            scaleUpRules = ScalingRules(completing: behavior.scaleUp, from: .defaultScaleUp)
            scaleDownRules = ScalingRules(
                completing: behavior.scaleDown,
                from: .defaultScaleDown(windowSeconds: configuration.downscaleStabilizationWindowSeconds))
        } else {
            scaleUpRules = nil
            scaleDownRules = nil
        }
    }

    /// The tolerance band for this autoscaler: the controller's, or `behavior`'s per direction.
    public var tolerances: Tolerances {
        var tolerances = Tolerances(configuration.tolerance)
        guard configuration.configurableTolerance else { return tolerances }
        if let scaleDown = scaleDownRules?.tolerance { tolerances.scaleDown = scaleDown.approximateValue }
        if let scaleUp = scaleUpRules?.tolerance { tolerances.scaleUp = scaleUp.approximateValue }
        return tolerances
    }

    /// Runs one sync.
    ///
    /// - Parameters:
    ///   - now: The sync's time; must not go backwards between calls.
    ///   - currentReplicas: The scale target's `spec.replicas`.
    ///   - pods: The pods the target's selector matches (for `Pods` metrics and `Object` `Value`).
    ///   - metrics: One reading per entry of `spec.metrics`, in order; a missing entry counts as
    ///     unavailable.
    ///   - statusReplicas: The target's `status.replicas`, used by `Object` `AverageValue`
    ///     targets; defaults to `currentReplicas`.
    /// - Returns: The decision; when it rescales, the model has recorded the scale event.
    public mutating func decide(
        at now: Duration, currentReplicas: Int32, pods: [PodSnapshot], metrics: [MetricReading],
        statusReplicas: Int32? = nil
    ) -> Decision {
        history.recordInitialRecommendation(currentReplicas, at: now)
        let minReplicas = spec.effectiveMinReplicas

        if currentReplicas == 0 {
            return Decision(time: now, currentReplicas: 0, desiredReplicas: 0, reason: .scalingDisabled)
        }
        if currentReplicas > spec.maxReplicas || currentReplicas < minReplicas {
            let target = currentReplicas > spec.maxReplicas ? spec.maxReplicas : minReplicas
            recordScale(from: currentReplicas, to: target, at: now)
            return Decision(
                time: now, currentReplicas: currentReplicas, desiredReplicas: target,
                reason: currentReplicas > spec.maxReplicas ? .aboveMaxReplicas(target) : .belowMinReplicas(target))
        }

        let evaluations = evaluate(
            currentReplicas: currentReplicas, pods: pods, metrics: metrics,
            statusReplicas: statusReplicas ?? currentReplicas)
        var proposal: Int32 = 0
        var governing: MetricEvaluation?
        var failures: [String] = []
        for evaluation in evaluations {
            guard let replicas = evaluation.proposedReplicas else {
                if case .failed(let message) = evaluation.outcome { failures.append(message) }
                continue
            }
            if proposal == 0 || replicas > proposal {
                proposal = replicas
                governing = evaluation
            }
        }
        if failures.count >= evaluations.count || (!failures.isEmpty && proposal < currentReplicas) {
            let message = "invalid metrics (\(failures.count) invalid out of \(evaluations.count)), "
                + "first error is: \(failures.first ?? "none")"
            return Decision(
                time: now, currentReplicas: currentReplicas, desiredReplicas: currentReplicas,
                evaluations: evaluations, reason: .metricsUnavailable(message))
        }

        var decision = normalize(proposal: max(proposal, 0), current: currentReplicas, at: now)
        decision.evaluations = evaluations
        if decision.adjustments.isEmpty, let governing {
            decision.reason = Self.reason(for: governing, proposal: proposal, current: currentReplicas)
        }
        recordScale(from: currentReplicas, to: decision.desiredReplicas, at: now)
        return decision
    }

    /// Each metric's proposal, pairing `spec.metrics` with `metrics` by position.
    private func evaluate(
        currentReplicas: Int32, pods: [PodSnapshot], metrics: [MetricReading], statusReplicas: Int32
    ) -> [MetricEvaluation] {
        let calculator = ReplicaCalculator(tolerances: tolerances)
        return spec.metrics.enumerated().map { index, metric in
            let reading = index < metrics.count ? metrics[index] : .unavailable(reason: "no reading supplied")
            let target = metric.pods?.target ?? metric.object?.target
            let targetMilli = (target?.type == .value ? target?.value : target?.averageValue)?.milliValue ?? 0
            switch (metric.type, reading) {
            case (.pods, .pods(let items)):
                return calculator.podsMetric(
                    metric.displayName, targetMilli: targetMilli, currentReplicas: currentReplicas,
                    items: items, pods: pods)
            case (.object, .object(let value)) where target?.type == .value:
                return calculator.objectValue(
                    metric.displayName, targetMilli: targetMilli, valueMilli: value,
                    currentReplicas: currentReplicas, pods: pods)
            case (.object, .object(let value)):
                return calculator.objectAverageValue(
                    metric.displayName, targetMilli: targetMilli, valueMilli: value, statusReplicas: statusReplicas)
            case (_, .unavailable(let reason)):
                return .failure(metric.displayName, targetMilli: targetMilli, "unable to get metric: \(reason)")
            default:
                return .failure(
                    metric.displayName, targetMilli: targetMilli,
                    "reading does not match metric type \(metric.type.rawValue)")
            }
        }
    }

    /// Why the proposal passed through untouched, from the metric that set it.
    private static func reason(for governing: MetricEvaluation, proposal: Int32, current: Int32) -> DecisionReason {
        if proposal != current {
            return .scaled(proposal > current ? .up : .down, metric: governing.metric)
        }
        switch governing.outcome {
        case .withinTolerance, .rebalancedWithinTolerance:
            return .withinTolerance(metric: governing.metric)
        case .rebalancedReversedDirection, .rebalancedReplicasReversedDirection:
            return .heldByMissingOrPendingPods(metric: governing.metric)
        case .scaled, .rebalanced, .failed:
            return .roundsToCurrent(metric: governing.metric)
        }
    }

    /// `storeScaleEvent`, kept only when the spec has a `behavior` (only policies read events).
    private mutating func recordScale(from previous: Int32, to new: Int32, at now: Duration) {
        guard new != previous, let scaleUpRules, let scaleDownRules else { return }
        history.storeScaleEvent(from: previous, to: new, at: now, scaleUp: scaleUpRules, scaleDown: scaleDownRules)
    }
}
