/// One pod's load at a sync, as rates over the rule's window.
public struct PodLoad: Sendable, Equatable {
    /// Seconds spent in the server per second: request rate × mean request time (Little's law: requests
    /// in flight).
    public var inServerSeconds: Double
    /// Compute seconds per second: request rate × mean compute time (busy model instances).
    public var computeSeconds: Double

    public init(inServerSeconds: Double, computeSeconds: Double) {
        self.inServerSeconds = inServerSeconds
        self.computeSeconds = computeSeconds
    }
}
