/// One direction's scaling rules with every default filled in, as the API server stores them.
///
/// When a manifest has a `behavior`, the API server completes each direction field by field
/// (`copyHPAScalingRules`): an absent `scaleUp` becomes "add max(100 %, 4 pods) per 15 s, no
/// stabilization"; an absent `scaleDown` becomes "remove 100 % per 15 s", and the controller fills
/// its missing window from `--horizontal-pod-autoscaler-downscale-stabilization` (300 s).
public struct ScalingRules: Sendable, Equatable {
    public var stabilizationWindowSeconds: Int32
    public var selectPolicy: ScalingPolicySelect
    public var policies: [HPAScalingPolicy]
    /// The direction's own tolerance, when the manifest sets one.
    public var tolerance: MilliQuantity?

    public init(
        stabilizationWindowSeconds: Int32, selectPolicy: ScalingPolicySelect = .max,
        policies: [HPAScalingPolicy], tolerance: MilliQuantity? = nil
    ) {
        self.stabilizationWindowSeconds = stabilizationWindowSeconds
        self.selectPolicy = selectPolicy
        self.policies = policies
        self.tolerance = tolerance
    }

    /// The documented default for scaling up: 4 pods or 100 %, whichever is more, every 15 s.
    public static let defaultScaleUp = ScalingRules(
        stabilizationWindowSeconds: 0,
        selectPolicy: .max,
        policies: [
            HPAScalingPolicy(type: .pods, value: 4, periodSeconds: 15),
            HPAScalingPolicy(type: .percent, value: 100, periodSeconds: 15),
        ])

    /// The documented default for scaling down: 100 % every 15 s after a `windowSeconds` window.
    public static func defaultScaleDown(windowSeconds: Int32) -> ScalingRules {
        ScalingRules(
            stabilizationWindowSeconds: windowSeconds,
            selectPolicy: .max,
            policies: [HPAScalingPolicy(type: .percent, value: 100, periodSeconds: 15)])
    }

    /// Completes `rules` from `defaults`, one field at a time.
    public init(completing rules: HPAScalingRules?, from defaults: ScalingRules) {
        self = defaults
        guard let rules else { return }
        if let window = rules.stabilizationWindowSeconds { stabilizationWindowSeconds = window }
        if let select = rules.selectPolicy { selectPolicy = select }
        if let policies = rules.policies { self.policies = policies }
        if let tolerance = rules.tolerance { self.tolerance = tolerance }
    }

    /// The longest `periodSeconds`, beyond which a stored scale event is stale.
    var longestPolicyPeriod: Int32 {
        policies.map(\.periodSeconds).max() ?? 0
    }
}
