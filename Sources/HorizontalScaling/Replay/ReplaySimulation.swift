/// Replays an HPA over recorded history, feeding back what its own replica count would have read.
///
/// The history holds, at each sync, the per-pod metric values Prometheus recorded with the replicas that
/// really ran, and optionally each pod's load (`PodLoad`). The replay keeps its own replica count and asks
/// a `LoadModel` what each of its replicas would have reported: the queue is common to all replicas (one
/// Service, one load balancer), so the recorded load is the service's, whatever the replica count.
///
/// Two rules follow the controller rather than the model:
/// - Partial data. A pod that reported before and after a sync but not at it (a Prometheus gap, a
///   staggered scrape) is *missing*: the service's load is estimated from the pods that reported, and the
///   same share of the replay's replicas has no value, so the controller's missing-pod rules apply (0 on
///   a scale-up, the target on a scale-down) instead of the known pods' total spread over all replicas.
/// - Warm-up. A replica the replay adds is Pending for `warmUp` seconds: it takes no load and counts as
///   the controller counts a Pending pod.
public struct ReplaySimulation: Sendable {
    /// One sync's recorded values: pod name → milli-value, and each pod's load where recorded.
    public struct Observation: Sendable, Equatable {
        public var time: Double
        public var values: [String: Int64]
        public var load: [String: PodLoad]
        /// Pods that reported before and after this sync but not at it (see `markMissing`).
        public var missing: Set<String>

        public init(time: Double, values: [String: Int64], load: [String: PodLoad] = [:], missing: Set<String> = []) {
            self.time = time
            self.values = values
            self.load = load
            self.missing = missing
        }
    }

    /// One sync of the replay.
    public struct Step: Sendable, Equatable {
        public var time: Double
        /// Pods with a recorded value, and their mean (milli); nil when nothing was recorded.
        public var recordedPods: Int
        public var recordedAverage: Int64?
        /// What each ready simulated replica would have reported (milli); nil when there was no data.
        public var simulatedValue: Int64?
        public var replicas: Int32
        public var desiredReplicas: Int32
        public var reason: String
        /// Recorded pods missing at this sync (see `Observation.missing`).
        public var missingPods: Int

        public init(
            time: Double, recordedPods: Int, recordedAverage: Int64?, simulatedValue: Int64?, replicas: Int32, desiredReplicas: Int32,
            reason: String, missingPods: Int = 0
        ) {
            self.time = time
            self.recordedPods = recordedPods
            self.recordedAverage = recordedAverage
            self.simulatedValue = simulatedValue
            self.replicas = replicas
            self.desiredReplicas = desiredReplicas
            self.reason = reason
            self.missingPods = missingPods
        }
    }

    private var model: HorizontalPodAutoscalerModel
    private let loadModel: LoadModel
    private let capacity: ReplicaCapacity
    private let warmUp: Double
    /// When each simulated replica started (seconds since the first sync), oldest first.
    private var started: [Double]

    /// - Parameters:
    ///   - model: A fresh model of the HPA to replay.
    ///   - initialReplicas: The replica count at the start of the range (default: minReplicas), all ready.
    ///   - loadModel: How the recorded load is shared over the replay's replicas.
    ///   - capacity: Requests one replica computes at once (for the closed- and open-loop models).
    ///   - warmUp: Seconds from the decision that adds a replica until it takes load.
    public init(
        model: HorizontalPodAutoscalerModel, initialReplicas: Int32? = nil, loadModel: LoadModel = .even,
        capacity: ReplicaCapacity = ReplicaCapacity(), warmUp: Double = 0
    ) {
        self.model = model
        self.loadModel = loadModel
        self.capacity = capacity
        self.warmUp = warmUp
        let replicas = initialReplicas ?? model.spec.effectiveMinReplicas
        self.started = Array(repeating: -Double.infinity, count: Int(max(replicas, 0)))
    }

    /// Runs every observation in time order, marking missing pods first.
    public mutating func run(_ observations: [Observation]) -> [Step] {
        guard let first = observations.first?.time else { return [] }
        return Self.markMissing(observations).map { step($0, since: first) }
    }

    /// One sync: the simulated values for the current replicas, then the HPA's decision, applied at once.
    public mutating func step(_ observation: Observation, since start: Double) -> Step {
        let seconds = observation.time - start
        let replicas = Int32(started.count)
        let ready = started.filter { seconds - $0 >= warmUp }.count
        let names = (0..<started.count).map { "replica-\($0)" }
        let pods = names.enumerated().map { index, name in
            PodSnapshot(name: name, phase: index < ready ? .running : .pending, isReady: index < ready)
        }
        let known = observation.values
        var simulated: Int64?
        let metric: MetricReading
        if known.isEmpty {
            metric = .unavailable(reason: "no recorded value at this time")
        } else if let value = loadModel.perReplicaValue(
            Self.serviceLoad(observation), replicas: Int32(max(ready, 1)), capacity: capacity)
        {
            simulated = value
            let share = Double(known.count) / Double(known.count + observation.missing.count)
            let reporting = observation.missing.isEmpty ? ready : min(max(Int((Double(ready) * share).rounded()), 1), ready)
            metric = .pods(names.prefix(reporting).map { PodMetricValue(podName: $0, milliValue: value) })
        } else {
            metric = .unavailable(reason: "no recorded load for the \(loadModel.rawValue) model at this time")
        }
        let decision = model.decide(
            at: .milliseconds(Int64((seconds * 1000).rounded())), currentReplicas: replicas, pods: pods, metrics: [metric]
        )
        let result = Step(
            time: observation.time, recordedPods: known.count,
            recordedAverage: known.isEmpty ? nil : known.values.reduce(0, +) / Int64(known.count),
            simulatedValue: simulated, replicas: replicas, desiredReplicas: decision.desiredReplicas,
            reason: decision.reason.description, missingPods: observation.missing.count
        )
        resize(to: decision.desiredReplicas, at: seconds)
        return result
    }

    /// Adds replicas (starting now) or removes the newest first, as a Deployment scales in.
    private mutating func resize(to desired: Int32, at seconds: Double) {
        let desired = Int(max(desired, 0))
        if desired > started.count {
            started += Array(repeating: seconds, count: desired - started.count)
        } else {
            started.removeLast(started.count - desired)
        }
    }

    /// The service's load at one sync, estimated from the pods that reported: their total scaled by
    /// (reporting + missing) / reporting, so a gap reads as the same load per pod, not as less load.
    static func serviceLoad(_ observation: Observation) -> ServiceLoad {
        let known = observation.values
        let scale = Double(known.count + observation.missing.count) / Double(max(known.count, 1))
        let loads = known.keys.compactMap { observation.load[$0] }
        let complete = loads.count == known.count && !loads.isEmpty
        return ServiceLoad(
            metricTotal: Double(known.values.reduce(0, +)) * scale,
            inFlight: complete ? loads.reduce(0) { $0 + $1.inServerSeconds } * scale : nil,
            busy: complete ? loads.reduce(0) { $0 + $1.computeSeconds } * scale : nil
        )
    }

    /// Marks the pods missing at each sync: those with a value at an earlier sync and at a later sync,
    /// each at most `within` seconds away, but none at this one. A pod that stopped for good, or has not
    /// started yet, is not missing: the real HPA no longer, or not yet, lists it.
    public static func markMissing(_ observations: [Observation], within: Double = 300) -> [Observation] {
        var lastSeen: [String: Double] = [:]
        var before: [Set<String>] = []
        for observation in observations {
            before.append(Set(lastSeen.filter { observation.time - $0.value <= within }.keys))
            for pod in observation.values.keys { lastSeen[pod] = observation.time }
        }
        var nextSeen: [String: Double] = [:]
        var result = observations
        for index in observations.indices.reversed() {
            let observation = observations[index]
            let after = Set(nextSeen.filter { $0.value - observation.time <= within }.keys)
            result[index].missing = before[index].intersection(after).subtracting(observation.values.keys)
            for pod in observation.values.keys { nextSeen[pod] = observation.time }
        }
        return result
    }
}
