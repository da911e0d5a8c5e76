extension HorizontalPodAutoscalerModel {
    /// `normalizeDesiredReplicas` / `normalizeDesiredReplicasWithBehaviors`: stabilization, then
    /// bounds and rate limits.
    ///
    /// The returned decision lists the stabilization and limits that changed the count; when none
    /// did, its reason is a placeholder the caller replaces with the metrics' explanation.
    mutating func normalize(proposal: Int32, current: Int32, at now: Duration) -> Decision {
        if let scaleUpRules, let scaleDownRules {
            return normalizeWithBehavior(
                proposal: proposal, current: current, at: now, scaleUp: scaleUpRules, scaleDown: scaleDownRules)
        }
        let window = configuration.downscaleStabilizationWindow
        let stabilized = history.stabilizeWithoutBehavior(desired: proposal, at: now, window: window)
        var decision = Decision(
            time: now, currentReplicas: current, desiredReplicas: stabilized, metricReplicas: proposal,
            stabilizedReplicas: stabilized, reason: .scaled(proposal >= current ? .up : .down, metric: "metrics"),
            ableToScaleReason: stabilized != proposal ? "ScaleDownStabilized" : "ReadyForNewScale",
            scalingLimitedReason: "DesiredWithinRange")
        if stabilized != proposal {
            decision.adjust(
                .stabilized(
                    .down, windowSeconds: configuration.downscaleStabilizationWindowSeconds,
                    recommendation: stabilized))
        }

        // convertDesiredReplicasWithRules: a scale-up may at most double the count (or reach 4).
        let scaleUpLimit = Int32(clamping: max(2 * Int64(current), 4))
        let minReplicas = spec.effectiveMinReplicas
        if stabilized < minReplicas {
            decision.desiredReplicas = minReplicas
            decision.adjust(.limitedByMinReplicas(minReplicas))
            decision.scalingLimitedReason = "TooFewReplicas"
        } else if spec.maxReplicas > scaleUpLimit, stabilized > scaleUpLimit {
            decision.desiredReplicas = scaleUpLimit
            decision.adjust(.limitedByScaleUpRate(scaleUpLimit))
            decision.scalingLimitedReason = "ScaleUpLimit"
        } else if spec.maxReplicas <= scaleUpLimit, stabilized > spec.maxReplicas {
            decision.desiredReplicas = spec.maxReplicas
            decision.adjust(.limitedByMaxReplicas(spec.maxReplicas))
            decision.scalingLimitedReason = "TooManyReplicas"
        }
        return decision
    }

    private mutating func normalizeWithBehavior(
        proposal: Int32, current: Int32, at now: Duration, scaleUp: ScalingRules, scaleDown: ScalingRules
    ) -> Decision {
        let stabilized = history.stabilizeWithBehavior(
            desired: proposal, current: current, at: now,
            scaleUpWindowSeconds: scaleUp.stabilizationWindowSeconds,
            scaleDownWindowSeconds: scaleDown.stabilizationWindowSeconds)
        let stabilizedDirection: ScalingDirection = proposal >= current ? .up : .down
        var decision = Decision(
            time: now, currentReplicas: current, desiredReplicas: stabilized, metricReplicas: proposal,
            stabilizedReplicas: stabilized, reason: .scaled(proposal >= current ? .up : .down, metric: "metrics"),
            ableToScaleReason: stabilized == proposal
                ? "ReadyForNewScale" : (stabilizedDirection == .up ? "ScaleUpStabilized" : "ScaleDownStabilized"),
            scalingLimitedReason: "DesiredWithinRange")
        if stabilized != proposal {
            let window = stabilizedDirection == .up
                ? scaleUp.stabilizationWindowSeconds : scaleDown.stabilizationWindowSeconds
            decision.adjust(.stabilized(stabilizedDirection, windowSeconds: window, recommendation: stabilized))
        }

        // convertDesiredReplicasWithBehaviorRate: policies bound the step, then min/max.
        if stabilized > current {
            var limit = scaleUp.scaleUpLimit(current: current, history: history, at: now)
            limit.replicas = max(limit.replicas, current)
            if spec.maxReplicas > limit.replicas {
                if stabilized > limit.replicas {
                    decision.desiredReplicas = limit.replicas
                    decision.adjust(.limitedByPolicy(limit))
                    decision.scalingLimitedReason = "ScaleUpLimit"
                }
            } else if stabilized > spec.maxReplicas {
                decision.desiredReplicas = spec.maxReplicas
                decision.adjust(.limitedByMaxReplicas(spec.maxReplicas))
                decision.scalingLimitedReason = "TooManyReplicas"
            }
        } else if stabilized < current {
            var limit = scaleDown.scaleDownLimit(current: current, history: history, at: now)
            limit.replicas = min(limit.replicas, current)
            let minReplicas = spec.effectiveMinReplicas
            if minReplicas < limit.replicas {
                if stabilized < limit.replicas {
                    decision.desiredReplicas = limit.replicas
                    decision.adjust(.limitedByPolicy(limit))
                    decision.scalingLimitedReason = "ScaleDownLimit"
                }
            } else if stabilized < minReplicas {
                decision.desiredReplicas = minReplicas
                decision.adjust(.limitedByMinReplicas(minReplicas))
                decision.scalingLimitedReason = "TooFewReplicas"
            }
        }
        return decision
    }
}

extension Decision {
    /// Records a step that moved the count; the latest step is the reason.
    fileprivate mutating func adjust(_ step: DecisionReason) {
        adjustments.append(step)
        reason = step
    }
}
