import CustomMetricsAPI
import Metrics
import Synchronization

/// Encoded answers, kept so that a request whose answer cannot have changed costs a lookup and a write.
///
/// An answer is reused only while all three things it was made from are unchanged: the rules (their
/// generation), the pods of its namespace (the pod directory's generation, read before the answer was
/// computed) and its query result, which is reused for at most the coalescer's `ttl` from when the
/// query was sent: the kept bytes expire at that same instant. So a cached answer is never older than
/// `--metrics-cache-ttl` from its query, and a pod the pod cache saw leave is never in it.
///
/// Bounded in bytes: past `maximumBytes` expired answers are dropped, and a new one is not kept while
/// the rest are still fresh. Only authorized requests reach it, and keys are per (version, resource,
/// namespace, selector, metric), so the bound is what stops a user with access from growing it.
public final class AnswerCache: Sendable {
    /// What identifies an answer's bytes.
    public struct Key: Hashable, Sendable {
        var version: APIVersion
        var resource: String
        var namespace: String?
        /// The label selector's requirements in a canonical order: `a=1,b=2` and `b=2,a=1` share.
        var selector: [String]
        /// The metric selector as written: it is echoed in the answer, so its order matters.
        var metric: MetricQuery

        public init(version: APIVersion, resource: String, namespace: String?, selector: LabelSelector, metric: MetricQuery) {
            self.version = version
            self.resource = resource
            self.namespace = namespace
            self.selector = selector.requirements.map(\.description).sorted()
            self.metric = metric
        }
    }

    /// What a kept answer was made from.
    public struct Sources: Equatable, Sendable {
        var rules: UInt64
        var pods: UInt64

        public init(rules: UInt64, pods: UInt64) {
            self.rules = rules
            self.pods = pods
        }
    }

    private struct Entry {
        var sources: Sources
        var expires: ContinuousClock.Instant
        var bytes: [UInt8]
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var bytes = 0
    }

    private let state = Mutex(State())
    private let maximumBytes: Int
    private let now: @Sendable () -> ContinuousClock.Instant
    private let hits: Counter
    private let misses: Counter

    /// - Parameters:
    ///   - maximumBytes: The most encoded bytes kept at once.
    ///   - metricsFactory: Where `custom_metrics_adapter_answer_cache_lookups_total{result}` goes.
    ///   - now: The clock answers expire by (injected so tests are exact).
    public init(
        maximumBytes: Int = 16 << 20,
        metricsFactory: any MetricsFactory = MetricsSystem.factory,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }
    ) {
        self.maximumBytes = maximumBytes
        self.now = now
        hits = Counter(label: "custom_metrics_adapter_answer_cache_lookups_total", dimensions: [("result", "hit")], factory: metricsFactory)
        misses = Counter(label: "custom_metrics_adapter_answer_cache_lookups_total", dimensions: [("result", "miss")], factory: metricsFactory)
    }

    /// The kept bytes for `key` if they were made from `sources` and have not expired.
    public func bytes(for key: Key, from sources: Sources) -> [UInt8]? {
        let now = now()
        let found = state.withLock { state -> [UInt8]? in
            guard let entry = state.entries[key], entry.sources == sources, now < entry.expires else { return nil }
            return entry.bytes
        }
        (found == nil ? misses : hits).increment()
        return found
    }

    /// Keeps `bytes` for `key` until `expires`, unless that would pass the byte bound.
    public func keep(_ bytes: [UInt8], for key: Key, from sources: Sources, expires: ContinuousClock.Instant) {
        let now = now()
        guard now < expires, bytes.count <= maximumBytes else { return }
        state.withLock { state in
            if let old = state.entries.removeValue(forKey: key) { state.bytes -= old.bytes.count }
            if state.bytes + bytes.count > maximumBytes {
                state.entries = state.entries.filter { $0.value.expires > now }
                state.bytes = state.entries.values.reduce(0) { $0 + $1.bytes.count }
                guard state.bytes + bytes.count <= maximumBytes else { return }
            }
            state.entries[key] = Entry(sources: sources, expires: expires, bytes: bytes)
            state.bytes += bytes.count
        }
    }

    /// How many answers and bytes are kept (tests and self-metrics).
    public var size: (answers: Int, bytes: Int) {
        state.withLock { ($0.entries.count, $0.bytes) }
    }
}
