import CustomMetricsAPI
import Logging
import Metrics
import Synchronization
import Testing

@testable import MetricRules

/// Counts every counter increment by label and dimensions; everything else is dropped.
final class CountingMetrics: MetricsFactory, Sendable {
    let counts = Mutex<[String: Int64]>([:])

    private final class Count: CounterHandler, Sendable {
        let key: String
        let owner: CountingMetrics
        init(key: String, owner: CountingMetrics) {
            self.key = key
            self.owner = owner
        }
        func increment(by amount: Int64) { owner.counts.withLock { $0[key, default: 0] += amount } }
        func reset() { owner.counts.withLock { $0[key] = 0 } }
    }

    func count(_ label: String, _ dimensions: [(String, String)]) -> Int64 {
        counts.withLock { $0[Self.key(label, dimensions), default: 0] }
    }

    static func key(_ label: String, _ dimensions: [(String, String)]) -> String {
        label + dimensions.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        Count(key: Self.key(label, dimensions), owner: self)
    }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        NOOPMetricsHandler.instance
    }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler { NOOPMetricsHandler.instance }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}

@Suite("QueryResults: a query result's samples are read and rounded once, however many answers share it", .timeLimit(.minutes(1)))
struct QueryResultsTests {
    static let pods = [
        PodRecord(namespace: "team-a", name: "triton-0", labels: ["app": "triton", "tier": "a"]),
        PodRecord(namespace: "team-a", name: "triton-1", labels: ["app": "triton", "tier": "b"]),
        PodRecord(namespace: "team-a", name: "triton-2", labels: ["app": "triton", "tier": "b"]),
    ]

    /// `AnswerCacheTests`' provider over three pods, one of them NaN, counting what it records.
    static func setup(ttl: Duration = .seconds(5)) -> (AnswerCacheTests.Setup, CountingMetrics) {
        let metrics = CountingMetrics()
        let setup = AnswerCacheTests.setup(
            ttl: ttl, pods: pods, values: ["triton-0": "NaN", "triton-1": "1.5", "triton-2": "2.5"], metricsFactory: metrics
        )
        return (setup, metrics)
    }

    /// Values left out because Prometheus computed NaN: one per reading of the samples.
    static func nanDrops(_ metrics: CountingMetrics) -> Int64 {
        metrics.count("custom_metrics_adapter_dropped_values_total", [("metric", AnswerCacheTests.metric.name), ("reason", "nan")])
    }

    @Test func answersSharingAQueryResultReadItsSamplesOnce() async throws {
        let (s, metrics) = Self.setup()
        let all = try await s.answer("app=triton")
        let tierB = try await s.answer("tier=b")
        let v1beta1 = try await s.answer("tier=b", version: .v1beta1)
        s.pods.remove("triton-2")
        let afterRemoval = try await s.answer("app=triton")
        #expect(s.queries == 1)
        #expect(Self.nanDrops(metrics) == 1)
        #expect(all.contains("triton-1") && all.contains("triton-2") && !all.contains("triton-0"))
        #expect(tierB.contains(#""value":"1500m""#) && tierB.contains(#""value":"2500m""#))
        #expect(v1beta1.contains(#""metricName":"triton:queue_compute:ratio""#))
        #expect(afterRemoval.contains("triton-1") && !afterRemoval.contains("triton-2"))
        #expect(s.provider.results.count == 1)
    }

    @Test func aNewQueryResultIsReadAgain() async throws {
        let (s, metrics) = Self.setup()
        _ = try await s.answer("app=triton")
        s.prometheus.answer.withLock { $0 = .success(AnswerCacheTests.samples(["triton-0": "NaN", "triton-1": "NaN", "triton-2": "3"])) }
        s.clock.advance(.seconds(5))
        let second = try await s.answer("tier=b")
        #expect(s.queries == 2)
        #expect(Self.nanDrops(metrics) == 3)
        #expect(second.contains(#""value":"3""#) && !second.contains("triton-1"))
    }

    @Test func nothingIsKeptWithoutATTL() async throws {
        let (s, metrics) = Self.setup(ttl: .zero)
        _ = try await s.answer("app=triton")
        _ = try await s.answer("tier=b")
        #expect(s.queries == 2)
        #expect(Self.nanDrops(metrics) == 2)
        #expect(s.provider.results.count == 0)
    }

    @Test func boundedInResultsAndValues() {
        let results = QueryResults()
        let now = ContinuousClock.now
        func key(_ index: Int) -> QueryResults.Key {
            .init(rules: 1, resource: "pods", metric: "m", namespace: "ns-\(index)", objectName: nil, selector: .everything, promql: "q\(index)")
        }
        var big = PrometheusMetricsProvider.QueryResult(sentAt: now)
        for index in 0...QueryResults.maximumResultValues { big.drops["pod-\(index)"] = "x" }
        results.keep(big, for: key(0), now: now, ttl: .seconds(5))
        #expect(results.count == 0)
        for index in 0..<(QueryResults.maximumResults + 10) {
            results.keep(PrometheusMetricsProvider.QueryResult(sentAt: now), for: key(index), now: now, ttl: .seconds(5))
            #expect(results.count <= QueryResults.maximumResults)
        }
        #expect(results.result(for: key(QueryResults.maximumResults + 9), sentAt: now) != nil)
        #expect(results.result(for: key(QueryResults.maximumResults + 9), sentAt: now + .seconds(1)) == nil)
        var fiveThousand = PrometheusMetricsProvider.QueryResult(sentAt: now)
        for index in 0..<QueryResults.maximumResultValues { fiveThousand.drops["pod-\(index)"] = "x" }
        for index in 0..<5 {
            results.keep(fiveThousand, for: key(1000 + index), now: now, ttl: .seconds(5))
            #expect(results.values <= QueryResults.maximumValues)
        }
        #expect(results.result(for: key(1004), sentAt: now) != nil)
    }
}
