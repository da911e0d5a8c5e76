import CustomMetricsAPI
import Foundation
import Logging
import MetricRules
import Metrics
import Synchronization
import Testing

/// Pods a test changes, with the generation a pod cache would report.
final class ChangingPods: PodDirectory {
    private let state: Mutex<(pods: [PodRecord], generation: UInt64)>

    init(_ pods: [PodRecord]) {
        state = Mutex((pods, 1))
    }

    func pods(inNamespace namespace: String) async throws(MetricsError) -> [PodRecord] {
        state.withLock { $0.pods.filter { $0.namespace == namespace } }
    }

    func generation(ofNamespace namespace: String) -> UInt64? {
        state.withLock { $0.generation }
    }

    func remove(_ name: String) {
        state.withLock {
            $0.pods.removeAll { $0.name == name }
            $0.generation += 1
        }
    }
}

@Suite("AnswerCache: encoded answers reused only while nothing they were made from changed", .timeLimit(.minutes(1)))
struct AnswerCacheTests {
    static let ttl = Duration.seconds(5)
    static let pods = [
        PodRecord(namespace: "team-a", name: "triton-0", labels: ["app": "triton"]),
        PodRecord(namespace: "team-a", name: "triton-1", labels: ["app": "triton"]),
    ]
    static let metric = MetricQuery(name: "triton:queue_compute:ratio")

    static func samples(_ values: [String: String]) -> [InstantSample] {
        values.map { InstantSample(labels: ["namespace": "team-a", "pod": $0.key], timestamp: 1_795_000_000, value: $0.value) }
    }

    struct Setup {
        let provider: PrometheusMetricsProvider
        let prometheus: FakePrometheus
        let pods: ChangingPods
        let clock: ManualClock
        let rules: RuleStore
        let answers: AnswerCache

        func answer(_ selector: String = "app=triton", version: APIVersion = .v1beta2) async throws -> String {
            let bytes = try await provider.encodedMetrics(
                version: version, resource: "pods", namespace: "team-a", selector: try LabelSelector(parsing: selector),
                metric: AnswerCacheTests.metric
            )
            return String(decoding: bytes, as: UTF8.self)
        }

        var queries: Int { prometheus.queries.withLock { $0.count } }
    }

    /// A provider over `pods` whose Prometheus answers `values` (pod → sample value) in team-a.
    static func setup(
        ttl: Duration = ttl,
        maximumBytes: Int = 1 << 20,
        pods: [PodRecord] = pods,
        values: [String: String] = ["triton-0": "1.5", "triton-1": "2.5"],
        metricsFactory: any MetricsFactory = NOOPMetricsHandler.instance
    ) -> Setup {
        let clock = ManualClock()
        let prometheus = FakePrometheus(.success(samples(values)))
        let pods = ChangingPods(pods)
        let rules = RuleStore(.builtIn)
        let answers = AnswerCache(maximumBytes: maximumBytes, metricsFactory: metricsFactory, now: { clock.now() })
        let provider = PrometheusMetricsProvider(
            rules: rules, prometheus: prometheus, pods: pods, logger: Logger(label: "test"), metricsFactory: metricsFactory,
            coalescer: QueryCoalescer(
                configuration: .init(ttl: ttl, maximumConcurrentQueries: 4, maximumWait: .seconds(5)),
                metricsFactory: metricsFactory, now: { clock.now() }
            ),
            answers: answers
        )
        return Setup(provider: provider, prometheus: prometheus, pods: pods, clock: clock, rules: rules, answers: answers)
    }

    @Test func reusesTheBytesWithinTheTTLAndTheSameBytesAsAFreshAnswer() async throws {
        let s = Self.setup()
        let first = try await s.answer()
        let expected = MetricValueList(
            version: .v1beta2,
            items: try await s.provider.metrics(resource: "pods", namespace: "team-a", selector: LabelSelector(parsing: "app=triton"), metric: Self.metric)
        ).jsonBytes()
        #expect(first == String(decoding: expected, as: UTF8.self))
        #expect(first.contains(#""value":"1500m""#) && first.contains(#""value":"2500m""#))
        s.prometheus.answer.withLock { $0 = .success(Self.samples(["triton-0": "9", "triton-1": "9"])) }
        s.clock.advance(.milliseconds(4999))
        #expect(try await s.answer() == first)
        #expect(s.answers.size.answers == 1)
        #expect(s.queries == 1)
    }

    /// What the server asks first, without a task or a timer: the kept bytes, under the same rules.
    @Test func keptMetricsGivesOnlyWhatEncodedMetricsWouldReuse() async throws {
        let s = Self.setup()
        func kept() throws -> String? {
            s.provider.keptMetrics(
                version: .v1beta2, resource: "pods", namespace: "team-a", selector: try LabelSelector(parsing: "app=triton"),
                metric: Self.metric
            ).map { String(decoding: $0, as: UTF8.self) }
        }
        #expect(try kept() == nil)
        let first = try await s.answer()
        #expect(try kept() == first)
        #expect(s.provider.keptMetrics(version: .v1beta1, resource: "pods", namespace: "team-a", selector: try LabelSelector(parsing: "app=triton"), metric: Self.metric) == nil)
        s.pods.remove("triton-1")
        #expect(try kept() == nil)
        _ = try await s.answer()
        #expect(try kept() != nil)
        s.clock.advance(Self.ttl)
        #expect(try kept() == nil)
        #expect(s.queries == 1)
    }

    @Test func neverServesAnAnswerOlderThanTheTTLFromItsQuery() async throws {
        let s = Self.setup()
        let first = try await s.answer()
        s.prometheus.answer.withLock { $0 = .success(Self.samples(["triton-0": "9", "triton-1": "9"])) }
        s.clock.advance(Self.ttl)
        let second = try await s.answer()
        #expect(second != first)
        #expect(second.contains(#""value":"9""#))
        #expect(s.queries == 2)
    }

    @Test func aPodThatLeftIsNeverInAnAnswerAfterThePodCacheSawIt() async throws {
        let s = Self.setup()
        #expect(try await s.answer().contains(#""name":"triton-1""#))
        s.pods.remove("triton-1")
        let after = try await s.answer()
        #expect(!after.contains(#""name":"triton-1""#))
        #expect(after.contains(#""name":"triton-0""#))
        // The query result itself is still fresh: only the join was redone.
        #expect(s.queries == 1)
    }

    @Test func newRulesMakeANewAnswer() async throws {
        let s = Self.setup()
        _ = try await s.answer()
        s.rules.replace(with: try RuleConfig.parse(yaml: """
            metrics:
              - name: triton:queue_compute:ratio
                query: "sum by (<<.GroupBy>>) (rate(other_metric{<<.LabelMatchers>>}[<<.Window>>]))"
            """))
        _ = try await s.answer()
        #expect(s.prometheus.queries.withLock { $0 }.last?.contains("other_metric") == true)
    }

    @Test func selectorsInAnotherOrderShareVersionsDoNot() async throws {
        let s = Self.setup()
        _ = try await s.answer("app=triton,tier!=web")
        _ = try await s.answer("tier!=web,app=triton")
        #expect(s.answers.size.answers == 1)
        let v1 = try await s.answer("app=triton", version: .v1beta1)
        #expect(v1.contains(#""apiVersion":"custom.metrics.k8s.io/v1beta1""#))
        #expect(s.answers.size.answers == 2)
        #expect(s.queries == 1)
    }

    @Test func withoutATTLNothingIsKept() async throws {
        let s = Self.setup(ttl: .zero)
        _ = try await s.answer()
        _ = try await s.answer()
        #expect(s.answers.size.answers == 0)
        #expect(s.queries == 2)
    }

    @Test func keepsNoMoreThanItsByteBound() async throws {
        let s = Self.setup(maximumBytes: 1000)
        let one = try await s.answer("app=triton")
        #expect(one.utf8.count > 500)
        _ = try await s.answer("app=triton,x!=1")
        #expect(s.answers.size.answers == 1)
        #expect(s.answers.size.bytes <= 1000)
        // Once the kept one expired, a new one takes its place.
        s.clock.advance(Self.ttl)
        _ = try await s.answer("app=triton,x!=2")
        #expect(s.answers.size.answers == 1)
    }
}
