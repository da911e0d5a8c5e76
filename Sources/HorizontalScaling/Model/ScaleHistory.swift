/// The memory the HPA controller keeps per autoscaler between syncs: past recommendations (for
/// stabilization windows) and past scale changes (for `behavior` policy periods).
///
/// The controller keeps this in process memory only, so it starts empty when kube-controller-manager
/// restarts; a model created fresh behaves the same way. Times are whatever `Duration` since an
/// epoch of the caller's choosing the model is given; comparisons mirror the controller's
/// (`Before`/`After` are strict), which matters when a replay steps in exact 15-second ticks.
public struct ScaleHistory: Sendable, Equatable {
    /// One unstabilized recommendation (the metrics' proposal before min/max and rate limits).
    public struct Recommendation: Sendable, Equatable {
        public var replicas: Int32
        public var time: Duration
    }

    /// One applied change of the replica count, in absolute value.
    public struct ScaleEvent: Sendable, Equatable {
        public var replicaChange: Int32
        public var time: Duration
        /// Older than the direction's longest policy period when last checked; the slot is reused.
        public var isOutdated: Bool
    }

    public private(set) var recommendations: [Recommendation] = []
    public private(set) var scaleUpEvents: [ScaleEvent] = []
    public private(set) var scaleDownEvents: [ScaleEvent] = []

    public init() {}

    /// `recordInitialRecommendation`: the first time an autoscaler is seen, the current count is
    /// remembered as a recommendation, so a scale-down waits a full window after (re)start.
    mutating func recordInitialRecommendation(_ replicas: Int32, at now: Duration) {
        if recommendations.isEmpty {
            recommendations = [Recommendation(replicas: replicas, time: now)]
        }
    }

    /// `stabilizeRecommendation` (no `behavior`): the highest recommendation not older than
    /// `window`, including `desired`, which is recorded (reusing a stale slot when there is one).
    mutating func stabilizeWithoutBehavior(desired: Int32, at now: Duration, window: Duration) -> Int32 {
        let cutoff = now - window
        var highest = desired
        var staleIndex: Int?
        for (index, recommendation) in recommendations.enumerated() {
            if recommendation.time < cutoff {
                staleIndex = index
            } else {
                highest = max(highest, recommendation.replicas)
            }
        }
        record(desired, at: now, replacing: staleIndex)
        return highest
    }

    /// `stabilizeRecommendationWithBehaviors`: the current count is raised to the lowest
    /// recommendation of the scale-up window and lowered to the highest of the scale-down window
    /// (both including `desired`), which is then recorded.
    mutating func stabilizeWithBehavior(
        desired: Int32, current: Int32, at now: Duration, scaleUpWindowSeconds: Int32,
        scaleDownWindowSeconds: Int32
    ) -> Int32 {
        let upCutoff = now - .seconds(Int64(scaleUpWindowSeconds))
        let downCutoff = now - .seconds(Int64(scaleDownWindowSeconds))
        var upRecommendation = desired
        var downRecommendation = desired
        var staleIndex: Int?
        for (index, recommendation) in recommendations.enumerated() {
            if recommendation.time > upCutoff {
                upRecommendation = min(upRecommendation, recommendation.replicas)
            }
            if recommendation.time > downCutoff {
                downRecommendation = max(downRecommendation, recommendation.replicas)
            }
            if recommendation.time < upCutoff && recommendation.time < downCutoff {
                staleIndex = index
            }
        }
        var stabilized = current
        if stabilized < upRecommendation { stabilized = upRecommendation }
        if stabilized > downRecommendation { stabilized = downRecommendation }
        record(desired, at: now, replacing: staleIndex)
        return stabilized
    }

    private mutating func record(_ replicas: Int32, at now: Duration, replacing staleIndex: Int?) {
        let recommendation = Recommendation(replicas: replicas, time: now)
        if let staleIndex {
            recommendations[staleIndex] = recommendation
        } else {
            recommendations.append(recommendation)
        }
    }

    /// `storeScaleEvent`: remembers an applied change, first marking events older than the
    /// direction's longest policy period as outdated and reusing the last such slot.
    mutating func storeScaleEvent(
        from previous: Int32, to new: Int32, at now: Duration, scaleUp: ScalingRules, scaleDown: ScalingRules
    ) {
        if new > previous {
            Self.store(new &- previous, at: now, longestPeriod: scaleUp.longestPolicyPeriod, in: &scaleUpEvents)
        } else {
            Self.store(previous &- new, at: now, longestPeriod: scaleDown.longestPolicyPeriod, in: &scaleDownEvents)
        }
    }

    private static func store(
        _ change: Int32, at now: Duration, longestPeriod: Int32, in events: inout [ScaleEvent]
    ) {
        let cutoff = now - .seconds(Int64(longestPeriod))
        var outdatedIndex: Int?
        for index in events.indices {
            if events[index].time < cutoff { events[index].isOutdated = true }
            if events[index].isOutdated { outdatedIndex = index }
        }
        let event = ScaleEvent(replicaChange: change, time: now, isOutdated: false)
        if let outdatedIndex {
            events[outdatedIndex] = event
        } else {
            events.append(event)
        }
    }

    /// `getReplicasChangePerPeriod`: the replicas added (or removed) by events strictly newer than
    /// `periodSeconds` ago.
    static func replicasChanged(in events: [ScaleEvent], periodSeconds: Int32, at now: Duration) -> Int32 {
        let cutoff = now - .seconds(Int64(periodSeconds))
        return events.filter { $0.time > cutoff }.reduce(Int32(0)) { $0 &+ $1.replicaChange }
    }
}
