@testable import HorizontalScaling
import Testing

/// `behavior` policies, replayed sync by sync against the documented examples
/// (https://kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/#scaling-policies).
struct ScalingPolicyTests {
    /// "For instance if there are 80 replicas and the target has to be scaled down to 10 replicas
    /// then during the first step 8 replicas will be reduced. In the next iteration when the number
    /// of replicas is 72, 10% of the pods is 7.2 but the number is rounded up to 8. [...] When the
    /// number of replicas falls below 40 the first policy (Pods) is applied and 4 replicas will be
    /// reduced at a time." `periodSeconds: 60` means the next step comes a minute later: the syncs in
    /// between are held by the policy, because the period still remembers the last step.
    @Test func docsExampleScaleDownFourPodsOrTenPercentPerMinute() throws {
        let behavior = HorizontalPodAutoscalerBehavior(
            scaleDown: HPAScalingRules(
                stabilizationWindowSeconds: 0, policies: [.pods(4, per: 60), .percent(10, per: 60)]))
        var model = try Replay.model(max: 100, behavior: behavior)
        let decisions = Replay.run(&model, from: 80, proposals: Array(repeating: 10, count: 60))

        let everyMinute = stride(from: 0, to: 60, by: 4).map { decisions[$0].desiredReplicas }
        #expect(everyMinute == [72, 64, 57, 51, 45, 40, 36, 32, 28, 24, 20, 16, 12, 10, 10])
        #expect(decisions[1].desiredReplicas == 72)
        #expect(decisions[3].desiredReplicas == 72)
        #expect(
            decisions[1].reason
                == .limitedByPolicy(
                    PolicyLimit(direction: .down, replicas: 72, policy: .percent(10, per: 60), selectPolicy: .max)))
        #expect(decisions[1].scalingLimitedReason == "ScaleDownLimit")
        #expect(decisions[36].reason.description == "scale down limited by policy Pods 4 per 60s (at least 24 replicas)")
    }

    /// The Triton manifest's `scaleUp: Pods 1 per 60s`: one pod a minute, whatever the metric asks.
    @Test func scaleUpOnePodPerMinute() throws {
        let behavior = HorizontalPodAutoscalerBehavior(scaleUp: HPAScalingRules(policies: [.pods(1, per: 60)]))
        var model = try Replay.model(max: 4, behavior: behavior)
        let decisions = Replay.run(&model, from: 1, proposals: Array(repeating: 4, count: 10))
        #expect(decisions.map(\.desiredReplicas) == [2, 2, 2, 2, 3, 3, 3, 3, 4, 4])
        #expect(decisions[0].reason.description == "scale up limited by policy Pods 1 per 60s (at most 2 replicas)")
        #expect(decisions[1].scalingLimitedReason == "ScaleUpLimit")
    }

    struct Row: CustomTestStringConvertible, Sendable {
        let rule: String
        let behavior: HorizontalPodAutoscalerBehavior?
        let max: Int32
        let current: Int32
        let proposals: [Int64]
        let desired: [Int32]
        var testDescription: String { rule }
    }

    @Test(arguments: [
        Row(
            rule: "Default scaleUp: 4 pods or 100% of the currently running replicas will be added every 15 seconds",
            behavior: HorizontalPodAutoscalerBehavior(scaleDown: HPAScalingRules(stabilizationWindowSeconds: 0)),
            max: 20, current: 2, proposals: [50, 50, 50, 50], desired: [6, 12, 20, 20]),
        Row(
            rule: "No behavior: the controller caps a scale-up at max(2 × current, 4) per sync",
            behavior: nil, max: 20, current: 2, proposals: [50, 50, 50, 50], desired: [4, 8, 16, 20]),
        Row(
            rule: "Default scaleDown: 100% of the currently running replicas may be removed (down to minReplicas)",
            behavior: HorizontalPodAutoscalerBehavior(scaleDown: HPAScalingRules(stabilizationWindowSeconds: 0)),
            max: 20, current: 10, proposals: [1], desired: [1]),
        Row(
            rule: "selectPolicy: Min selects the policy which allows the smallest change: Pods 5 beats Percent 10 at 100 replicas",
            behavior: HorizontalPodAutoscalerBehavior(
                scaleDown: HPAScalingRules(
                    stabilizationWindowSeconds: 0, selectPolicy: .min, policies: [.percent(10, per: 60), .pods(5, per: 60)])),
            max: 100, current: 100, proposals: [10], desired: [95]),
        Row(
            rule: "selectPolicy: Max (default) selects the policy which allows the highest amount of change: Percent 10 at 100 replicas",
            behavior: HorizontalPodAutoscalerBehavior(
                scaleDown: HPAScalingRules(
                    stabilizationWindowSeconds: 0, policies: [.percent(10, per: 60), .pods(5, per: 60)])),
            max: 100, current: 100, proposals: [10], desired: [90]),
        Row(
            rule: "Setting the value to Disabled completely disables scaling in that direction (scaleDown)",
            behavior: HorizontalPodAutoscalerBehavior(
                scaleDown: HPAScalingRules(stabilizationWindowSeconds: 0, selectPolicy: .disabled)),
            max: 10, current: 5, proposals: [1, 1, 8], desired: [5, 5, 8]),
        Row(
            rule: "Percent scale-up rounds up: 10% of 3 replicas still adds one",
            behavior: HorizontalPodAutoscalerBehavior(scaleUp: HPAScalingRules(policies: [.percent(10, per: 60)])),
            max: 10, current: 3, proposals: [10], desired: [4]),
        Row(
            rule: "maxReplicas caps the policy's allowance (TooManyReplicas)",
            behavior: HorizontalPodAutoscalerBehavior(), max: 5, current: 4, proposals: [9], desired: [5]),
    ])
    func policies(_ row: Row) throws {
        var model = try Replay.model(max: row.max, behavior: row.behavior)
        let decisions = Replay.run(&model, from: row.current, proposals: row.proposals)
        #expect(decisions.map(\.desiredReplicas) == row.desired)
    }

    @Test func disabledDirectionSaysWhy() throws {
        let behavior = HorizontalPodAutoscalerBehavior(
            scaleDown: HPAScalingRules(stabilizationWindowSeconds: 0, selectPolicy: .disabled))
        var model = try Replay.model(max: 10, behavior: behavior)
        let decision = Replay.run(&model, from: 5, proposals: [1])[0]
        #expect(decision.reason.description == "scale down disabled by selectPolicy Disabled")
    }

    struct LimitRow: CustomTestStringConvertible, Sendable {
        let rule: String
        let direction: ScalingDirection
        let rules: ScalingRules
        let current: Int32
        /// `(seconds before now, replicas before, replicas after)` of applied scale changes.
        let events: [(Int64, Int32, Int32)]
        let limit: Int32
        var testDescription: String { rule }
    }

    /// `calculateScaleUpLimitWithScalingRules` / `calculateScaleDownLimitWithBehaviors`: each
    /// policy counts from the replicas at the start of its period.
    @Test(arguments: [
        LimitRow(
            rule: "scale up, Pods 4 per 60s, no events: 5 + 4",
            direction: .up,
            rules: ScalingRules(stabilizationWindowSeconds: 0, policies: [.pods(4, per: 60)]),
            current: 5, events: [], limit: 9),
        LimitRow(
            rule: "scale up, Pods 4 per 60s, 2 added 30 s ago: the period started at 3",
            direction: .up,
            rules: ScalingRules(stabilizationWindowSeconds: 0, policies: [.pods(4, per: 60)]),
            current: 5, events: [(30, 3, 5)], limit: 7),
        LimitRow(
            rule: "scale up, an event exactly one period old no longer counts",
            direction: .up,
            rules: ScalingRules(stabilizationWindowSeconds: 0, policies: [.pods(4, per: 60)]),
            current: 5, events: [(60, 3, 5)], limit: 9),
        LimitRow(
            rule: "scale up, a scale-down inside the period raises its start (current - added + removed)",
            direction: .up,
            rules: ScalingRules(stabilizationWindowSeconds: 0, policies: [.pods(1, per: 60)]),
            current: 8, events: [(15, 10, 8)], limit: 11),
        LimitRow(
            rule: "scale up, selectPolicy Min of Pods 4 and Pods 2",
            direction: .up,
            rules: ScalingRules(stabilizationWindowSeconds: 0, selectPolicy: .min, policies: [.pods(4, per: 60), .pods(2, per: 60)]),
            current: 5, events: [], limit: 7),
        LimitRow(
            rule: "scale up, Percent 50 per 60s from 10",
            direction: .up,
            rules: ScalingRules(stabilizationWindowSeconds: 0, policies: [.percent(50, per: 60)]),
            current: 10, events: [], limit: 15),
        LimitRow(
            rule: "scale down, Percent 20 per 60s, 1 removed 30 s ago: int32(11 × 0.8) = 8",
            direction: .down,
            rules: ScalingRules(stabilizationWindowSeconds: 0, policies: [.percent(20, per: 60)]),
            current: 10, events: [(30, 11, 10)], limit: 8),
        LimitRow(
            rule: "scale down, selectPolicy Min of Percent 10 and Pods 15 at 100: 90",
            direction: .down,
            rules: ScalingRules(stabilizationWindowSeconds: 0, selectPolicy: .min, policies: [.percent(10, per: 60), .pods(15, per: 60)]),
            current: 100, events: [], limit: 90),
    ])
    func limit(_ row: LimitRow) {
        let now = Duration.seconds(1000)
        var history = ScaleHistory()
        for (ago, before, after) in row.events {
            history.storeScaleEvent(from: before, to: after, at: now - .seconds(ago), scaleUp: row.rules, scaleDown: row.rules)
        }
        let limit = row.direction == .up
            ? row.rules.scaleUpLimit(current: row.current, history: history, at: now)
            : row.rules.scaleDownLimit(current: row.current, history: history, at: now)
        #expect(limit.replicas == row.limit)
    }
}
