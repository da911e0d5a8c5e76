import CustomMetricsAPI
import Logging
import MetricRules
import Metrics
import Synchronization
import Testing

/// A query that counts its runs and finishes when the test says so.
final class GatedQuery: Sendable {
    let runs = Mutex(0)
    private let gate = Mutex<[CheckedContinuation<Void, Never>]>([])
    private let answer: Mutex<QueryCoalescer.Answer>

    init(_ answer: QueryCoalescer.Answer) {
        self.answer = Mutex(answer)
    }

    func set(_ answer: QueryCoalescer.Answer) {
        self.answer.withLock { $0 = answer }
    }

    /// Runs until `open()`.
    func gated() async -> QueryCoalescer.Answer {
        runs.withLock { $0 += 1 }
        await withCheckedContinuation { continuation in gate.withLock { $0.append(continuation) } }
        return answer.withLock { $0 }
    }

    /// Answers at once.
    func immediate() async -> QueryCoalescer.Answer {
        runs.withLock { $0 += 1 }
        return answer.withLock { $0 }
    }

    func open() {
        for waiter in gate.withLock({ gates in defer { gates = [] }; return gates }) { waiter.resume() }
    }

    /// Waits (bounded: 2,000 polls of 1 ms, about 2 s and more on a loaded machine) until `count` runs
    /// have started; records an issue, failing the test, when they have not.
    func waitForRuns(_ count: Int, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        for _ in 0..<2000 where runs.withLock({ $0 }) < count {
            try await Task.sleep(for: .milliseconds(1))
        }
        let seen = runs.withLock { $0 }
        if seen < count {
            Issue.record("waited for \(count) runs of the query, saw \(seen)", sourceLocation: sourceLocation)
        }
    }
}

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let offset = Mutex(Duration.zero)
    private let start = ContinuousClock.now
    func now() -> ContinuousClock.Instant { start + offset.withLock { $0 } }
    func advance(_ duration: Duration) { offset.withLock { $0 += duration } }
}

@Suite("QueryCoalescer: one Prometheus query per period, never a stale or failed answer", .timeLimit(.minutes(1)))
struct QueryCoalescerTests {
    static let samples = [InstantSample(labels: ["pod": "triton-0"], timestamp: 1_795_000_000, value: "1.5")]
    static func coalescer(ttl: Duration, limit: Int = 8, wait: Duration = .seconds(5), clock: ManualClock = ManualClock()) -> QueryCoalescer {
        QueryCoalescer(
            configuration: .init(ttl: ttl, maximumConcurrentQueries: limit, maximumWait: wait),
            metricsFactory: NOOPMetricsHandler.instance,
            now: { clock.now() }
        )
    }

    @Test func concurrentIdenticalRequestsShareOneQuery() async throws {
        let query = GatedQuery(.success(Self.samples))
        let coalescer = Self.coalescer(ttl: .zero)
        try await withThrowingTaskGroup(of: QueryCoalescer.Answer.self) { group in
            for _ in 0..<20 {
                group.addTask { await coalescer.answer(for: "q") { await query.gated() } }
            }
            try await query.waitForRuns(1)
            try await Task.sleep(for: .milliseconds(50))
            query.open()
            var answers = 0
            for try await answer in group {
                #expect(try answer.get() == Self.samples)
                answers += 1
            }
            #expect(answers == 20)
        }
        #expect(query.runs.withLock { $0 } == 1)
    }

    @Test func answersAreReusedWithinTheTTLAndNeverAfter() async throws {
        let clock = ManualClock()
        let query = GatedQuery(.success(Self.samples))
        let coalescer = Self.coalescer(ttl: .seconds(5), clock: clock)
        _ = await coalescer.answer(for: "q") { await query.immediate() }
        clock.advance(.milliseconds(4999))
        _ = await coalescer.answer(for: "q") { await query.immediate() }
        #expect(query.runs.withLock { $0 } == 1)
        clock.advance(.milliseconds(1))
        _ = await coalescer.answer(for: "q") { await query.immediate() }
        #expect(query.runs.withLock { $0 } == 2)
        // Another query is another entry.
        _ = await coalescer.answer(for: "other namespace") { await query.immediate() }
        #expect(query.runs.withLock { $0 } == 3)
    }

    @Test func failuresAreNeverKept() async throws {
        let query = GatedQuery(.failure(PrometheusQueryError(.unreachable, "refused")))
        let coalescer = Self.coalescer(ttl: .seconds(5))
        let first = await coalescer.answer(for: "q") { await query.immediate() }
        #expect(throws: PrometheusQueryError.self) { try first.get() }
        query.set(.success(Self.samples))
        let second = await coalescer.answer(for: "q") { await query.immediate() }
        #expect(try second.get() == Self.samples)
        #expect(query.runs.withLock { $0 } == 2)
        #expect(await coalescer.keptAnswers == 1)
    }

    @Test func zeroTTLKeepsNothing() async throws {
        let query = GatedQuery(.success(Self.samples))
        let coalescer = Self.coalescer(ttl: .zero)
        for _ in 0..<3 { _ = await coalescer.answer(for: "q") { await query.immediate() } }
        #expect(query.runs.withLock { $0 } == 3)
        #expect(await coalescer.keptAnswers == 0)
    }

    @Test func expiredAnswersAreDropped() async throws {
        let clock = ManualClock()
        let query = GatedQuery(.success(Self.samples))
        let coalescer = Self.coalescer(ttl: .seconds(1), clock: clock)
        for namespace in 0..<100 { _ = await coalescer.answer(for: "q\(namespace)") { await query.immediate() } }
        #expect(await coalescer.keptAnswers == 100)
        clock.advance(.seconds(2))
        _ = await coalescer.answer(for: "fresh") { await query.immediate() }
        #expect(await coalescer.keptAnswers == 1)
    }

    @Test func overTheConcurrencyLimitAQueryWaitsThenFails() async throws {
        let slow = GatedQuery(.success(Self.samples))
        let coalescer = Self.coalescer(ttl: .zero, limit: 1, wait: .milliseconds(100))
        async let first = coalescer.answer(for: "namespace-a") { await slow.gated() }
        try await slow.waitForRuns(1)
        let second = await coalescer.answer(for: "namespace-b") { await slow.immediate() }
        #expect(throws: PrometheusQueryError(.overloaded, "no query slot free within 0.1 seconds (1 running)")) { try second.get() }
        slow.open()
        #expect(try await first.get() == Self.samples)
        // The slot is free again.
        let third = await coalescer.answer(for: "namespace-b") { await slow.immediate() }
        #expect(try third.get() == Self.samples)
    }

    @Test func aWaitingQueryGetsTheSlotWhenOneFrees() async throws {
        let slow = GatedQuery(.success(Self.samples))
        let coalescer = Self.coalescer(ttl: .zero, limit: 1, wait: .seconds(5))
        async let first = coalescer.answer(for: "namespace-a") { await slow.gated() }
        try await slow.waitForRuns(1)
        async let second = coalescer.answer(for: "namespace-b") { await slow.immediate() }
        try await Task.sleep(for: .milliseconds(50))
        #expect(slow.runs.withLock { $0 } == 1)
        slow.open()
        #expect(try await first.get() == Self.samples)
        #expect(try await second.get() == Self.samples)
    }

    @Test func aCancelledCallerStopsWaitingButTheQueryServesTheOthers() async throws {
        let slow = GatedQuery(.success(Self.samples))
        let coalescer = Self.coalescer(ttl: .zero)
        let cancelled = Task { await coalescer.answer(for: "q") { await slow.gated() } }
        try await slow.waitForRuns(1)
        async let patient = coalescer.answer(for: "q") { await slow.gated() }
        cancelled.cancel()
        let answer = await cancelled.value
        #expect(throws: PrometheusQueryError.self) { try answer.get() }
        slow.open()
        #expect(try await patient.get() == Self.samples)
        #expect(slow.runs.withLock { $0 } == 1)
    }

    @Test func theProviderSendsOneQueryForManyConcurrentRequests() async throws {
        let prometheus = FakePrometheus(.success([ProviderTests.sample("team-a", "triton-0", "1.5")]))
        let provider = PrometheusMetricsProvider(
            rules: .builtIn, prometheus: prometheus, pods: ProviderTests.pods, logger: Logger(label: "test"),
            metricsFactory: NOOPMetricsHandler.instance, coalescer: Self.coalescer(ttl: .seconds(5))
        )
        for _ in 0..<5 {
            let values = try await provider.metrics(
                resource: "pods", namespace: "team-a", selector: try LabelSelector(parsing: "app=triton"), metric: ProviderTests.metric
            )
            #expect(values.map(\.value.description) == ["1500m"])
        }
        #expect(prometheus.queries.withLock { $0.count } == 1)
    }
}
