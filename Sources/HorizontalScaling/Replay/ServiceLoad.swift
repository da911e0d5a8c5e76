/// The load of the whole service at one sync.
public struct ServiceLoad: Sendable, Equatable {
    /// The sum of the per-pod metric values, in milli-units.
    public var metricTotal: Double
    /// Requests in the server (Little's law: request rate × mean time in the server), nil if not recorded.
    public var inFlight: Double?
    /// Compute seconds per second (request rate × compute time per request), nil if not recorded.
    public var busy: Double?

    public init(metricTotal: Double, inFlight: Double? = nil, busy: Double? = nil) {
        self.metricTotal = metricTotal
        self.inFlight = inFlight
        self.busy = busy
    }
}
