import Metrics

/// Shares Prometheus queries between requests: identical queries in flight at the same time are sent
/// once, and a successful answer is reused for at most `ttl`, counted from when its query was sent.
///
/// Every HPA (and every `kubectl get --raw`) asking for one metric in one namespace needs the same PromQL,
/// so Prometheus should see it once per period, not once per caller. The bound is hard: an answer older
/// than `ttl` is never served, and a failed query is never remembered, so a fault shows at once.
/// At most `maximumConcurrentQueries` different queries run at a time; a query waits up to `maximumWait`
/// for a slot and otherwise fails as `.overloaded`, so a burst over many namespaces cannot flood
/// Prometheus or pile up without bound here.
///
/// A caller whose task is cancelled (its request timed out) stops waiting at once; the query itself runs
/// on, bounded by the Prometheus client's timeout, and still serves the other callers.
public actor QueryCoalescer {
    public struct Configuration: Sendable {
        /// How long a successful answer is reused; zero shares only queries in flight.
        public var ttl: Duration
        /// How many different queries may run at once.
        public var maximumConcurrentQueries: Int
        /// How long a query may wait for a free slot before failing as `.overloaded`.
        public var maximumWait: Duration
        /// How many answers are kept at most; past it, answers are not kept (queries still coalesce).
        public var maximumEntries: Int

        public init(ttl: Duration, maximumConcurrentQueries: Int, maximumWait: Duration, maximumEntries: Int = 10_000) {
            self.ttl = ttl
            self.maximumConcurrentQueries = maximumConcurrentQueries
            self.maximumWait = maximumWait
            self.maximumEntries = maximumEntries
        }

        /// No reuse after completion and no limit: what a provider built without options gets.
        public static let passThrough = Configuration(ttl: .zero, maximumConcurrentQueries: .max, maximumWait: .seconds(3600))
    }

    /// What a query's callers receive.
    public typealias Answer = Result<[InstantSample], PrometheusQueryError>

    /// An answer and when its query was sent (its age is counted from there).
    public typealias TimedAnswer = (answer: Answer, sentAt: ContinuousClock.Instant)

    private typealias Waiter = CheckedContinuation<TimedAnswer, Never>

    private enum Entry {
        case running(waiters: [UInt64: Waiter])
        case answered(samples: [InstantSample], sentAt: ContinuousClock.Instant)
    }

    public nonisolated let configuration: Configuration
    private let now: @Sendable () -> ContinuousClock.Instant
    private let lookups: (hit: Counter, coalesced: Counter, miss: Counter)
    private let inFlightGauge: Gauge
    private var entries: [String: Entry] = [:]
    private var running = 0
    private var slotWaiters: [(id: UInt64, continuation: CheckedContinuation<Bool, Never>)] = []
    private var nextID: UInt64 = 0

    /// - Parameters:
    ///   - configuration: Reuse period and limits.
    ///   - metricsFactory: Where `custom_metrics_adapter_query_cache_lookups_total{result}` and
    ///     `custom_metrics_adapter_prometheus_queries_in_flight` go.
    ///   - now: The clock answers are aged by (injected so tests are exact).
    public init(
        configuration: Configuration,
        metricsFactory: any MetricsFactory = MetricsSystem.factory,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }
    ) {
        self.configuration = configuration
        self.now = now
        func lookup(_ result: String) -> Counter {
            Counter(label: "custom_metrics_adapter_query_cache_lookups_total", dimensions: [("result", result)], factory: metricsFactory)
        }
        lookups = (lookup("hit"), lookup("coalesced"), lookup("miss"))
        inFlightGauge = Gauge(label: "custom_metrics_adapter_prometheus_queries_in_flight", factory: metricsFactory)
    }

    /// The answer for `key`: a fresh kept one, the one of a query already running, or the one `fetch`
    /// gives when started now.
    ///
    /// - Parameters:
    ///   - key: Identifies the query (the PromQL text).
    ///   - fetch: Runs the query; called at most once per period for a key, whatever the number of callers.
    public func answer(for key: String, fetch: @escaping @Sendable () async -> Answer) async -> Answer {
        await timedAnswer(for: key, fetch: fetch).answer
    }

    /// `answer(for:fetch:)` with the time its query was sent.
    public func timedAnswer(for key: String, fetch: @escaping @Sendable () async -> Answer) async -> TimedAnswer {
        switch entries[key] {
        case .answered(let samples, let sentAt) where now() - sentAt < configuration.ttl:
            lookups.hit.increment()
            return (.success(samples), sentAt)
        case .running:
            lookups.coalesced.increment()
        case .answered, nil:
            lookups.miss.increment()
            entries[key] = .running(waiters: [:])
            // Unstructured on purpose: the query serves every waiter, so one caller's cancellation must
            // not cancel it.
            Task { await self.run(key, fetch: fetch) }
        }
        let id = makeID()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: Waiter) in
                guard !Task.isCancelled, case .running(var waiters) = entries[key] else {
                    continuation.resume(returning: (.failure(Self.cancelled), now()))
                    return
                }
                waiters[id] = continuation
                entries[key] = .running(waiters: waiters)
            }
        } onCancel: {
            Task { await self.abandon(key, waiter: id) }
        }
    }

    /// How many answers are kept; for tests and the self-metrics.
    public var keptAnswers: Int {
        entries.values.reduce(0) { count, entry in
            if case .answered = entry { return count + 1 }
            return count
        }
    }

    // MARK: - Running a query

    private static let cancelled = PrometheusQueryError(.timeout, "the request was cancelled before the query finished")

    private func run(_ key: String, fetch: @Sendable () async -> Answer) async {
        let answer: Answer
        var sentAt = now()
        if await acquireSlot() {
            sentAt = now()
            answer = await fetch()
            releaseSlot()
        } else {
            answer = .failure(PrometheusQueryError(
                .overloaded, "no query slot free within \(configuration.maximumWait) (\(configuration.maximumConcurrentQueries) running)"
            ))
        }
        guard case .running(let waiters) = entries[key] else { return }
        entries[key] = nil
        removeExpired()
        if case .success(let samples) = answer, configuration.ttl > .zero, entries.count < configuration.maximumEntries {
            entries[key] = .answered(samples: samples, sentAt: sentAt)
        }
        for waiter in waiters.values {
            waiter.resume(returning: (answer, sentAt))
        }
    }

    private func abandon(_ key: String, waiter id: UInt64) {
        guard case .running(var waiters) = entries[key], let waiter = waiters.removeValue(forKey: id) else { return }
        entries[key] = .running(waiters: waiters)
        waiter.resume(returning: (.failure(Self.cancelled), now()))
    }

    private func removeExpired() {
        let now = now()
        entries = entries.filter { _, entry in
            if case .answered(_, let sentAt) = entry { return now - sentAt < configuration.ttl }
            return true
        }
    }

    private func makeID() -> UInt64 {
        nextID &+= 1
        return nextID
    }

    // MARK: - Query slots

    private func acquireSlot() async -> Bool {
        if running < configuration.maximumConcurrentQueries {
            running += 1
            inFlightGauge.record(running)
            return true
        }
        let id = makeID()
        let wait = configuration.maximumWait
        let timer = Task {
            try? await Task.sleep(for: wait)
            self.expireSlotWaiter(id)
        }
        let granted = await withCheckedContinuation { continuation in
            slotWaiters.append((id, continuation))
        }
        timer.cancel()
        return granted
    }

    private func releaseSlot() {
        if slotWaiters.isEmpty {
            running -= 1
            inFlightGauge.record(running)
        } else {
            // The slot passes straight to the longest waiter.
            slotWaiters.removeFirst().continuation.resume(returning: true)
        }
    }

    private func expireSlotWaiter(_ id: UInt64) {
        guard let index = slotWaiters.firstIndex(where: { $0.id == id }) else { return }
        slotWaiters.remove(at: index).continuation.resume(returning: false)
    }
}
