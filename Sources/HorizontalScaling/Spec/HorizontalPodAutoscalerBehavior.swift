/// `spec.behavior` (`HorizontalPodAutoscalerBehavior`, autoscaling/v2): how fast, and after how
/// much hesitation, the controller may move the replica count in each direction.
///
/// Every field is optional as in the API; `ScalingRules` fills the gaps with the API server's
/// defaults.
public struct HorizontalPodAutoscalerBehavior: Decodable, Sendable, Equatable {
    public var scaleUp: HPAScalingRules?
    public var scaleDown: HPAScalingRules?

    public init(scaleUp: HPAScalingRules? = nil, scaleDown: HPAScalingRules? = nil) {
        self.scaleUp = scaleUp
        self.scaleDown = scaleDown
    }
}

/// `HPAScalingRules` for one direction.
public struct HPAScalingRules: Decodable, Sendable, Equatable {
    /// Seconds of past recommendations considered before moving (0...3600).
    public var stabilizationWindowSeconds: Int32?
    /// Which policy wins when several apply (`Max` by default).
    public var selectPolicy: ScalingPolicySelect?
    /// The rate limits; at least one when present.
    public var policies: [HPAScalingPolicy]?
    /// A per-direction tolerance overriding the controller's 0.1 (feature gate
    /// `HPAConfigurableTolerance`).
    public var tolerance: MilliQuantity?

    public init(
        stabilizationWindowSeconds: Int32? = nil, selectPolicy: ScalingPolicySelect? = nil,
        policies: [HPAScalingPolicy]? = nil, tolerance: MilliQuantity? = nil
    ) {
        self.stabilizationWindowSeconds = stabilizationWindowSeconds
        self.selectPolicy = selectPolicy
        self.policies = policies
        self.tolerance = tolerance
    }
}

/// `HPAScalingPolicy`: at most `value` pods (or `value` percent of the replicas the period started
/// with) may be added or removed within any `periodSeconds`.
public struct HPAScalingPolicy: Decodable, Sendable, Equatable, CustomStringConvertible {
    public var type: HPAScalingPolicyType
    public var value: Int32
    public var periodSeconds: Int32

    public init(type: HPAScalingPolicyType, value: Int32, periodSeconds: Int32) {
        self.type = type
        self.value = value
        self.periodSeconds = periodSeconds
    }

    /// `Pods 4 per 60s`, `Percent 10 per 60s`.
    public var description: String { "\(type.rawValue) \(value) per \(periodSeconds)s" }
}

/// `HPAScalingPolicyType`.
public enum HPAScalingPolicyType: String, Decodable, Sendable, Equatable {
    case pods = "Pods"
    case percent = "Percent"
}

/// `ScalingPolicySelect`.
public enum ScalingPolicySelect: String, Decodable, Sendable, Equatable {
    /// The policy allowing the largest change.
    case max = "Max"
    /// The policy allowing the smallest change.
    case min = "Min"
    /// No scaling in this direction.
    case disabled = "Disabled"
}
