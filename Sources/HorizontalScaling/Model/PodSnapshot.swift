/// What the controller reads of one pod selected by the scale target's selector.
///
/// For `Pods` metrics the controller ignores pods that are terminating or terminal, treats
/// `Pending` pods as not yet ready, and does *not* look at the Ready condition (that check is for
/// CPU only). For `Object` metrics with a `Value` target it counts pods that are `Running` and
/// Ready.
public struct PodSnapshot: Sendable, Hashable {
    /// The pod's name, matched against the metric items' `describedObject.name`.
    public var name: String
    /// `status.phase`.
    public var phase: PodPhase
    /// Whether the `Ready` condition is `True`.
    public var isReady: Bool
    /// Whether `metadata.deletionTimestamp` is set.
    public var isTerminating: Bool

    public init(name: String, phase: PodPhase = .running, isReady: Bool = true, isTerminating: Bool = false) {
        self.name = name
        self.phase = phase
        self.isReady = isReady
        self.isTerminating = isTerminating
    }
}

/// `PodPhase`.
public enum PodPhase: String, Sendable, Hashable, Decodable {
    case pending = "Pending"
    case running = "Running"
    case succeeded = "Succeeded"
    case failed = "Failed"
    case unknown = "Unknown"
}
