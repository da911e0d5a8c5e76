/// One metric's replica proposal and how it was reached, so a replay can say why.
public struct MetricEvaluation: Sendable, Equatable, CustomStringConvertible {
    /// The metric as the controller names it in events (`pods metric triton:queue_compute:ratio`).
    public var metric: String
    /// The target in milli-units (`averageValue` or `value`).
    public var targetMilli: Int64
    /// What the HPA status would show as current: the average over pods with a value (Pods), the
    /// object's value (Object `Value`), or the value per replica (Object `AverageValue`). As in the
    /// controller, this is the value *before* missing or pending pods are filled in.
    public var usageMilli: Int64?
    /// `usage / target` (for Object `AverageValue`: `value / (target × replicas)`).
    public var ratio: Double?
    /// The ratio recomputed after missing and pending pods were filled in, when that happened.
    public var rebalancedRatio: Double?
    /// The replica count this metric asks for; `nil` when it could not be computed.
    public var proposedReplicas: Int32?
    /// Which rule produced the proposal.
    public var outcome: Outcome

    /// The rule of the replica calculation that decided a metric's proposal.
    public enum Outcome: Sendable, Equatable, CustomStringConvertible {
        /// The ratio is within the tolerance: propose the current count.
        case withinTolerance
        /// `ceil(ratio × ready pods)` (Pods, Object `Value`) or `ceil(value / averageValue)`.
        case scaled
        /// Missing or pending pods were filled in (target on scale-down, 0 on scale-up) and the
        /// new ratio gave `ceil(newRatio × pods counted)`.
        case rebalanced
        /// After filling in, the ratio fell within the tolerance: propose the current count.
        case rebalancedWithinTolerance
        /// After filling in, the ratio crossed 1 (the scale direction reversed): no change.
        case rebalancedReversedDirection
        /// After filling in, the rounded count moved against the ratio's direction: no change.
        case rebalancedReplicasReversedDirection
        /// The metric could not be computed (the controller's error message).
        case failed(String)

        public var description: String {
            switch self {
            case .withinTolerance: "within tolerance"
            case .scaled: "scaled"
            case .rebalanced: "rebalanced for missing or pending pods"
            case .rebalancedWithinTolerance: "within tolerance once missing or pending pods are counted"
            case .rebalancedReversedDirection:
                "held: counting missing or pending pods reverses the scale direction"
            case .rebalancedReplicasReversedDirection:
                "held: counting missing or pending pods moves the replica count the other way"
            case .failed(let message): "failed: \(message)"
            }
        }
    }

    public init(
        metric: String, targetMilli: Int64, usageMilli: Int64? = nil, ratio: Double? = nil,
        rebalancedRatio: Double? = nil, proposedReplicas: Int32?, outcome: Outcome
    ) {
        self.metric = metric
        self.targetMilli = targetMilli
        self.usageMilli = usageMilli
        self.ratio = ratio
        self.rebalancedRatio = rebalancedRatio
        self.proposedReplicas = proposedReplicas
        self.outcome = outcome
    }

    /// An evaluation that failed with the controller's `message`.
    static func failure(_ metric: String, targetMilli: Int64, _ message: String) -> MetricEvaluation {
        MetricEvaluation(
            metric: metric, targetMilli: targetMilli, proposedReplicas: nil, outcome: .failed(message))
    }

    /// `pods metric m: 1500m / 1000m = 1.500 → 3 (scaled)`.
    public var description: String {
        var text = "\(metric): "
        if let usageMilli { text += "\(MilliQuantity(milliValue: usageMilli)) / " }
        text += "\(MilliQuantity(milliValue: targetMilli))"
        if let ratio { text += " = \(Self.format(ratio))" }
        if let rebalancedRatio { text += " (\(Self.format(rebalancedRatio)) with missing/pending pods)" }
        if let proposedReplicas { text += " → \(proposedReplicas)" }
        return text + " (\(outcome))"
    }

    private static func format(_ ratio: Double) -> String {
        guard ratio.isFinite, abs(ratio) < 1e12 else { return "\(ratio)" }
        let thousandths = (ratio * 1000).rounded()
        let whole = Int64(thousandths / 1000)
        let fraction = Int64(abs(thousandths.truncatingRemainder(dividingBy: 1000)))
        let padded = String(fraction).count < 3
            ? String(repeating: "0", count: 3 - String(fraction).count) + String(fraction)
            : String(fraction)
        return "\(thousandths < 0 && whole == 0 ? "-" : "")\(whole).\(padded)"
    }
}
