import CustomMetricsAPI
import Foundation
import Logging
import MetricRules
import Metrics
import Testing

/// `explain` observes the server's own path: on the same world, its verdicts and outcome agree with the
/// answer the provider gives the server.
@Suite("explain: the provider's own decisions, recorded", .timeLimit(.minutes(1)))
struct ExplainTests {
    static let world: [InstantSample] = [
        ProviderTests.sample("team-a", "triton-0", "0.5"),
        ProviderTests.sample("team-a", "triton-1", "NaN"),
        ProviderTests.sample("team-a", "triton-3", "5"),
        ProviderTests.sample("team-a", "deleted-0", "9"),
    ]

    @Test(.timeLimit(.minutes(1)))
    func selectionVerdictsAgreeWithTheAnswer() async throws {
        let (provider, _) = ProviderTests.provider(.success(Self.world))
        let selector = try LabelSelector(parsing: "app=triton")
        let answer = try await provider.metrics(resource: "pods", namespace: "team-a", selector: selector, metric: ProviderTests.metric)
        let explanation = await provider.explain(
            .selection(.v1beta2, resource: "pods", namespace: "team-a", selector: selector, ProviderTests.metric)
        )
        #expect(try explanation.outcome.get() == answer)
        #expect(explanation.rule == MetricRule.tritonQueueComputeRatio)
        #expect(explanation.promql?.contains(#"namespace="team-a""#) == true)
        let verdicts = Dictionary(uniqueKeysWithValues: explanation.verdicts.map { ($0.object, $0.verdict) })
        #expect(verdicts == [
            "other-0": "not selected: its labels do not match labelSelector",
            "triton-0": "kept",
            "triton-1": "left out: Prometheus computed NaN, which is never served",
            "triton-2": "left out: no series in Prometheus' answer (not scraped, no requests within the 60s window, "
                + "or metricLabelSelector matches none of its series)",
            "triton-3": "left out: the pod is terminating or finished (Running)",
            "triton-4": "left out: the pod is terminating or finished (Failed)",
            "deleted-0": "ignored: Prometheus has a series, but Kubernetes lists no such pod (deleted?)",
        ])
        let kept = explanation.verdicts.filter { $0.verdict == "kept" }.map(\.object)
        #expect(kept == answer.map(\.describedObject.name))
    }

    @Test(.timeLimit(.minutes(1)))
    func objectOutcomeIsTheServersError() async throws {
        let (provider, _) = ProviderTests.provider(.success(Self.world))
        let object = ObjectKey(resource: "pods", namespace: "team-a", name: "triton-1")
        let explanation = await provider.explain(.object(.v1beta2, object, ProviderTests.metric))
        var served: MetricsError?
        do {
            _ = try await provider.metric(for: object, metric: ProviderTests.metric)
        } catch {
            served = error
        }
        #expect(served != nil)
        if case .failure(let error) = explanation.outcome { #expect(error == served) } else { Issue.record("explain served a value") }
    }

    @Test(.timeLimit(.minutes(1)))
    func unknownMetricListsWhatIsServed() async {
        let (provider, prometheus) = ProviderTests.provider(.success(Self.world))
        let explanation = await provider.explain(
            .selection(.v1beta2, resource: "pods", namespace: "team-a", selector: .everything, MetricQuery(name: "nope"))
        )
        #expect(explanation.rule == nil)
        #expect(explanation.servedMetrics == [MetricInfo(resource: "pods", namespaced: true, metric: "triton:queue_compute:ratio")])
        #expect(prometheus.queries.withLock { $0 }.isEmpty)
    }
}
