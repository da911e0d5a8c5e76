/// What the HPA controller would do in one sync, with every intermediate count, so a replay can
/// print why it scaled or held.
public struct Decision: Sendable, Equatable, CustomStringConvertible {
    /// When the sync happened (the caller's clock).
    public var time: Duration
    /// The scale target's `spec.replicas` before the sync.
    public var currentReplicas: Int32
    /// The replica count the controller writes (equal to `currentReplicas` when it holds).
    public var desiredReplicas: Int32
    /// The largest metric proposal, before stabilization and limits; `nil` when metrics were not
    /// consulted or could not be computed.
    public var metricReplicas: Int32?
    /// The count after the stabilization window, before min/max and rate limits.
    public var stabilizedReplicas: Int32?
    /// Each metric of `spec.metrics`, in order.
    public var evaluations: [MetricEvaluation]
    /// The rule that had the last word: the last of `adjustments`, or, when nothing adjusted the
    /// metrics' proposal, why the metrics proposed what they did.
    public var reason: DecisionReason
    /// The steps that moved the count away from the metrics' proposal, in order: the
    /// stabilization window, then a policy, rate or min/max limit.
    public var adjustments: [DecisionReason]
    /// The `AbleToScale` condition reason the controller sets (`ReadyForNewScale`,
    /// `ScaleUpStabilized`, `ScaleDownStabilized`), when it normalizes a proposal.
    public var ableToScaleReason: String?
    /// The `ScalingLimited` condition reason (`DesiredWithinRange`, `ScaleUpLimit`,
    /// `ScaleDownLimit`, `TooManyReplicas`, `TooFewReplicas`), when it normalizes a proposal.
    public var scalingLimitedReason: String?

    public init(
        time: Duration, currentReplicas: Int32, desiredReplicas: Int32, metricReplicas: Int32? = nil,
        stabilizedReplicas: Int32? = nil, evaluations: [MetricEvaluation] = [], reason: DecisionReason,
        adjustments: [DecisionReason] = [], ableToScaleReason: String? = nil, scalingLimitedReason: String? = nil
    ) {
        self.time = time
        self.currentReplicas = currentReplicas
        self.desiredReplicas = desiredReplicas
        self.metricReplicas = metricReplicas
        self.stabilizedReplicas = stabilizedReplicas
        self.evaluations = evaluations
        self.reason = reason
        self.adjustments = adjustments
        self.ableToScaleReason = ableToScaleReason
        self.scalingLimitedReason = scalingLimitedReason
    }

    /// Whether the controller writes a new replica count.
    public var isRescale: Bool { desiredReplicas != currentReplicas }

    /// One line: `t=45s 2 → 4: scale up: pods metric m above target [pods metric m: 2 / 1 = 2.000 → 4 (scaled)]`.
    public var description: String {
        let seconds = time.components.seconds
        let why = adjustments.count > 1 ? adjustments.map(\.description).joined(separator: "; then ") : "\(reason)"
        var text = "t=\(seconds)s \(currentReplicas) → \(desiredReplicas): \(why)"
        var steps: [String] = []
        if let metricReplicas { steps.append("proposed \(metricReplicas)") }
        if let stabilizedReplicas { steps.append("stabilized \(stabilizedReplicas)") }
        if !steps.isEmpty { text += " (\(steps.joined(separator: ", ")))" }
        if !evaluations.isEmpty {
            text += " [" + evaluations.map(\.description).joined(separator: "; ") + "]"
        }
        return text
    }
}
