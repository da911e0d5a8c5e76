/// How a replay turns the load recorded on the replicas that really ran into what each of a different
/// number of replicas would have reported.
///
/// History holds the per-pod metric with the replicas that ran. Asking "what would 3 replicas have read?"
/// needs a model of how the metric (Triton's queue time over compute time) depends on the replica count.
/// Each case states its assumption; docs/what-if.md has each one's measured error against real runs.
public enum LoadModel: String, Sendable, CaseIterable, Hashable {
    /// The recorded total of the per-pod values is shared evenly: each of `R` replicas reports `total / R`.
    /// Needs only the metric. Wrong for closed-loop clients, whose total changes with `R` (N − R).
    case even
    /// A fixed number of requests in flight (closed-loop clients): Little's law gives the work in flight
    /// `N` = request rate × time in the server, summed over pods. On `R` replicas that each serve `c`
    /// requests at once (instances × max batch size) the rest wait: ratio = max(N / (R·c) − 1, 0).
    case closedLoop = "closed-loop"
    /// A fixed arrival rate (open-loop clients): offered load `a` = request rate × compute time (busy
    /// seconds per second) spread over `R·c` servers, each an M/M/1 queue at utilisation ρ = a / (R·c):
    /// queue/compute = ρ / (1 − ρ), with ρ capped at `openLoopMaxUtilisation`.
    case openLoop = "open-loop"

    /// Utilisation above which the open-loop model stops (a saturated history under-states the offered
    /// load, because throughput cannot exceed capacity): 0.95 reads as 19.
    public static let openLoopMaxUtilisation = 0.95

    /// What each of `replicas` replicas would report (milli), or nil when the load it needs is unknown.
    ///
    /// - Parameters:
    ///   - load: The load of the whole service at one sync, estimated from the pods that reported.
    ///   - replicas: The replay's replica count (at least 1).
    ///   - capacity: Requests one replica serves at once.
    public func perReplicaValue(_ load: ServiceLoad, replicas: Int32, capacity: ReplicaCapacity) -> Int64? {
        let servers = Double(max(replicas, 1)) * Double(capacity.concurrentRequests)
        switch self {
        case .even:
            return Int64((load.metricTotal / Double(max(replicas, 1))).rounded())
        case .closedLoop:
            guard let inFlight = load.inFlight else { return nil }
            return Int64((max(inFlight / servers - 1, 0) * 1000).rounded())
        case .openLoop:
            guard let busy = load.busy else { return nil }
            let rho = min(busy / servers, Self.openLoopMaxUtilisation)
            return Int64((rho / (1 - rho) * 1000).rounded())
        }
    }
}
