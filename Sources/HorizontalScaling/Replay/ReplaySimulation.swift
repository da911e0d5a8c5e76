/// Replays an HPA over recorded history, feeding back how replicas would have shared the load.
///
/// The history holds, at each sync, the per-pod metric values Prometheus recorded with the replicas that
/// really ran. The replay keeps its own replica count and assumes the load is shared: the queue is common
/// to all replicas (one Service, one load balancer), so the recorded total (sum over recorded pods) spread
/// over `r` simulated replicas gives each `total / r`. For the queue-to-compute ratio this is the first-order
/// effect of adding replicas; it ignores warm-up time and non-linear queueing (documented in docs/what-if.md).
public struct ReplaySimulation: Sendable {
    /// One sync's recorded values: pod name → milli-value.
    public struct Observation: Sendable, Equatable {
        public var time: Double
        public var values: [String: Int64]

        public init(time: Double, values: [String: Int64]) {
            self.time = time
            self.values = values
        }
    }

    /// One sync of the replay.
    public struct Step: Sendable, Equatable {
        public var time: Double
        /// Pods with a recorded value, and their mean (milli); nil when nothing was recorded.
        public var recordedPods: Int
        public var recordedAverage: Int64?
        /// What each simulated replica would have reported (milli).
        public var simulatedValue: Int64?
        public var replicas: Int32
        public var desiredReplicas: Int32
        public var reason: String

        public init(
            time: Double, recordedPods: Int, recordedAverage: Int64?, simulatedValue: Int64?, replicas: Int32, desiredReplicas: Int32,
            reason: String
        ) {
            self.time = time
            self.recordedPods = recordedPods
            self.recordedAverage = recordedAverage
            self.simulatedValue = simulatedValue
            self.replicas = replicas
            self.desiredReplicas = desiredReplicas
            self.reason = reason
        }
    }

    private var model: HorizontalPodAutoscalerModel
    private var replicas: Int32

    /// - Parameters:
    ///   - model: A fresh model of the HPA to replay.
    ///   - initialReplicas: The replica count at the start of the range (default: minReplicas).
    public init(model: HorizontalPodAutoscalerModel, initialReplicas: Int32? = nil) {
        self.model = model
        self.replicas = initialReplicas ?? model.spec.effectiveMinReplicas
    }

    /// Runs every observation in time order.
    public mutating func run(_ observations: [Observation]) -> [Step] {
        guard let first = observations.first?.time else { return [] }
        return observations.map { step($0, since: first) }
    }

    /// One sync: the simulated values for the current replicas, then the HPA's decision, applied at once.
    public mutating func step(_ observation: Observation, since start: Double) -> Step {
        let recorded = observation.values.values
        let total = recorded.reduce(Int64(0), +)
        let average = recorded.isEmpty ? nil : total / Int64(recorded.count)
        let names = (0..<Int(replicas)).map { "replica-\($0)" }
        let metric: MetricReading
        let simulated: Int64?
        if recorded.isEmpty {
            metric = .unavailable(reason: "no recorded value at this time")
            simulated = nil
        } else {
            let share = total / Int64(replicas)
            metric = .pods(names.map { PodMetricValue(podName: $0, milliValue: share) })
            simulated = share
        }
        let seconds = observation.time - start
        let decision = model.decide(
            at: .milliseconds(Int64((seconds * 1000).rounded())), currentReplicas: replicas,
            pods: names.map { PodSnapshot(name: $0) }, metrics: [metric]
        )
        let result = Step(
            time: observation.time, recordedPods: recorded.count, recordedAverage: average, simulatedValue: simulated,
            replicas: replicas, desiredReplicas: decision.desiredReplicas, reason: decision.reason.description
        )
        replicas = decision.desiredReplicas
        return result
    }
}
