/// The rule that had the last word in a decision, most specific first: a limit beats the
/// stabilization window, which beats the metrics' proposal.
public enum DecisionReason: Sendable, Equatable, CustomStringConvertible {
    /// `spec.replicas` is 0 and `minReplicas` is not: the HPA stands aside.
    case scalingDisabled
    /// The target had more replicas than `maxReplicas`; metrics were not consulted.
    case aboveMaxReplicas(Int32)
    /// The target had fewer replicas than `minReplicas`; metrics were not consulted.
    case belowMinReplicas(Int32)
    /// No metric could be computed, or one failed while the others would scale down: hold.
    case metricsUnavailable(String)
    /// The governing metric's ratio is within the tolerance.
    case withinTolerance(metric: String)
    /// Counting missing or pending pods reversed the governing metric's direction.
    case heldByMissingOrPendingPods(metric: String)
    /// The governing metric scaled, but `ceil` landed on the current count.
    case roundsToCurrent(metric: String)
    /// A stabilization window kept the count nearer to recent recommendations.
    case stabilized(ScalingDirection, windowSeconds: Int32, recommendation: Int32)
    /// A `behavior` policy (or `selectPolicy: Disabled`) capped the change.
    case limitedByPolicy(PolicyLimit)
    /// Without `behavior`, a scale-up is capped at max(2 × current, 4).
    case limitedByScaleUpRate(Int32)
    /// Capped at `maxReplicas`.
    case limitedByMaxReplicas(Int32)
    /// Raised to `minReplicas`.
    case limitedByMinReplicas(Int32)
    /// The metrics' proposal went through unchanged.
    case scaled(ScalingDirection, metric: String)

    public var description: String {
        switch self {
        case .scalingDisabled:
            "scaling is disabled since the replica count of the target is zero"
        case .aboveMaxReplicas(let max):
            "current number of replicas above maxReplicas \(max)"
        case .belowMinReplicas(let min):
            "current number of replicas below minReplicas \(min)"
        case .metricsUnavailable(let message):
            "held: \(message)"
        case .withinTolerance(let metric):
            "within tolerance (\(metric))"
        case .heldByMissingOrPendingPods(let metric):
            "held: counting missing or pending pods reverses or cancels the change (\(metric))"
        case .roundsToCurrent(let metric):
            "proposal rounds to the current count (\(metric))"
        case .stabilized(let direction, let window, let recommendation):
            direction == .down
                ? "stabilized by the scale-down window \(window)s (highest recent recommendation \(recommendation))"
                : "stabilized by the scale-up window \(window)s (lowest recent recommendation \(recommendation))"
        case .limitedByPolicy(let limit):
            limit.description
        case .limitedByScaleUpRate(let limit):
            "scale up limited to max(2 × current, 4) = \(limit) replicas"
        case .limitedByMaxReplicas(let max):
            "limited by maxReplicas \(max)"
        case .limitedByMinReplicas(let min):
            "limited by minReplicas \(min)"
        case .scaled(let direction, let metric):
            direction == .up ? "scale up: \(metric) above target" : "scale down: all metrics below target"
        }
    }
}
