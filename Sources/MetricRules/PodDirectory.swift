import CustomMetricsAPI

/// The pods the adapter knows about, answered from memory (a list+watch cache in a cluster).
public protocol PodDirectory: Sendable {
    /// Every pod currently in `namespace`, preferably sorted by name (the provider sorts them, which
    /// costs one pass when they already are).
    ///
    /// - Throws: `MetricsError` 503 while the directory has not synced yet: an answer from a half-filled
    ///   cache would leave pods out of the HPA's average.
    func pods(inNamespace namespace: String) async throws(MetricsError) -> [PodRecord]

    /// A number that changes whenever a pod of `namespace` is added, changed or removed; nil when the
    /// directory cannot tell (or has not synced), which turns off reuse of encoded answers.
    func generation(ofNamespace namespace: String) -> UInt64?

    /// Whether the directory can answer (a list+watch cache: its first list has completed).
    var isSynced: Bool { get }
}

extension PodDirectory {
    public func generation(ofNamespace namespace: String) -> UInt64? { nil }
    public var isSynced: Bool { true }
}

/// What the provider needs of a pod.
public struct PodRecord: Sendable, Hashable {
    public var namespace: String
    public var name: String
    public var labels: [String: String]
    /// `metadata.deletionTimestamp` is set: the pod is going away.
    public var isTerminating: Bool
    /// `status.phase` (`Pending`, `Running`, `Succeeded`, `Failed`, `Unknown`).
    public var phase: String

    public init(namespace: String, name: String, labels: [String: String], isTerminating: Bool = false, phase: String = "Running") {
        self.namespace = namespace
        self.name = name
        self.labels = labels
        self.isTerminating = isTerminating
        self.phase = phase
    }

    /// Whether the pod may appear in an answer: not terminating and not finished.
    public var isLive: Bool {
        !isTerminating && phase != "Succeeded" && phase != "Failed"
    }
}
