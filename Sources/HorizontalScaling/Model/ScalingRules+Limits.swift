/// The replica count one direction's policies allow right now, and the policy that set it.
public struct PolicyLimit: Sendable, Equatable, CustomStringConvertible {
    public var direction: ScalingDirection
    /// The highest (scale-up) or lowest (scale-down) count allowed.
    public var replicas: Int32
    /// The policy whose proposal was selected; `nil` when `selectPolicy` is `Disabled`.
    public var policy: HPAScalingPolicy?
    public var selectPolicy: ScalingPolicySelect

    public init(
        direction: ScalingDirection, replicas: Int32, policy: HPAScalingPolicy?, selectPolicy: ScalingPolicySelect
    ) {
        self.direction = direction
        self.replicas = replicas
        self.policy = policy
        self.selectPolicy = selectPolicy
    }

    /// `scale up limited by policy Pods 1 per 60s (at most 3 replicas)`.
    public var description: String {
        guard let policy else {
            return selectPolicy == .disabled
                ? "\(direction) disabled by selectPolicy Disabled" : "\(direction) blocked: no policies"
        }
        let bound = direction == .up ? "at most" : "at least"
        return "\(direction) limited by policy \(policy) (\(bound) \(replicas) replicas)"
    }
}

extension ScalingRules {
    /// `calculateScaleUpLimitWithScalingRules`: for each policy, the count at the start of its
    /// period (current minus what was added plus what was removed within it) plus the policy's
    /// allowance (`value` pods, or `ceil(start × (1 + value/100))`); `Max` takes the largest.
    func scaleUpLimit(current: Int32, history: ScaleHistory, at now: Duration) -> PolicyLimit {
        guard selectPolicy != .disabled else {
            return PolicyLimit(direction: .up, replicas: current, policy: nil, selectPolicy: selectPolicy)
        }
        var selected: (replicas: Int32, policy: HPAScalingPolicy?) = (selectPolicy == .min ? .max : .min, nil)
        for policy in policies {
            let start = periodStartReplicas(current: current, history: history, policy: policy, at: now)
            let proposed: Int32 = switch policy.type {
            case .pods: start &+ policy.value
            case .percent: ReplicaCalculator.ceilToReplicas(Double(start) * (1 + Double(policy.value) / 100))
            }
            let better = selectPolicy == .min ? proposed < selected.replicas : proposed > selected.replicas
            if better || selected.policy == nil { selected = (proposed, policy) }
        }
        return PolicyLimit(
            direction: .up, replicas: selected.replicas, policy: selected.policy, selectPolicy: selectPolicy)
    }

    /// `calculateScaleDownLimitWithBehaviors`: for each policy, the period's starting count minus
    /// the allowance (`value` pods, or `start × (1 - value/100)` truncated); `Max` (the largest
    /// change) takes the *smallest* count.
    func scaleDownLimit(current: Int32, history: ScaleHistory, at now: Duration) -> PolicyLimit {
        guard selectPolicy != .disabled else {
            return PolicyLimit(direction: .down, replicas: current, policy: nil, selectPolicy: selectPolicy)
        }
        var selected: (replicas: Int32, policy: HPAScalingPolicy?) = (selectPolicy == .min ? .min : .max, nil)
        for policy in policies {
            let start = periodStartReplicas(current: current, history: history, policy: policy, at: now)
            let proposed: Int32 = switch policy.type {
            case .pods: start &- policy.value
            case .percent: Self.truncatedToReplicas(Double(start) * (1 - Double(policy.value) / 100))
            }
            let better = selectPolicy == .min ? proposed > selected.replicas : proposed < selected.replicas
            if better || selected.policy == nil { selected = (proposed, policy) }
        }
        return PolicyLimit(
            direction: .down, replicas: selected.replicas, policy: selected.policy, selectPolicy: selectPolicy)
    }

    private func periodStartReplicas(
        current: Int32, history: ScaleHistory, policy: HPAScalingPolicy, at now: Duration
    ) -> Int32 {
        let period = policy.periodSeconds
        let added = ScaleHistory.replicasChanged(in: history.scaleUpEvents, periodSeconds: period, at: now)
        let removed = ScaleHistory.replicasChanged(in: history.scaleDownEvents, periodSeconds: period, at: now)
        return current &- added &+ removed
    }

    /// `int32(x)` for a float: truncation toward zero, saturating where Go's is undefined.
    private static func truncatedToReplicas(_ value: Double) -> Int32 {
        guard value.isFinite else { return value > 0 ? .max : (value < 0 ? .min : 0) }
        let truncated = value.rounded(.towardZero)
        if truncated >= Double(Int32.max) { return .max }
        if truncated <= Double(Int32.min) { return .min }
        return Int32(truncated)
    }
}
