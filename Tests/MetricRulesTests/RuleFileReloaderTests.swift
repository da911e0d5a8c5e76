import Foundation
import Logging
import MetricRules
import Metrics
import Testing

@Suite("RuleFileReloader: a valid new config is swapped in whole, an invalid one changes nothing", .timeLimit(.minutes(1)))
struct RuleFileReloaderTests {
    static let query = "sum by (<<.GroupBy>>) (rate(x{<<.LabelMatchers>>}[<<.Window>>]))"
    static func config(_ names: [String]) -> String {
        "metrics:\n" + names.map { "  - name: \($0)\n    query: \"\(query)\"\n" }.joined()
    }

    static func reloader(_ store: RuleStore) -> RuleFileReloader {
        RuleFileReloader(
            store: store, path: "/nonexistent/config.yaml", logger: Logger(label: "test"),
            metricsFactory: NOOPMetricsHandler.instance, parse: { try RuleConfig.parse(yaml: $0) }
        )
    }

    @Test func aValidFileReplacesTheRules() async throws {
        let store = RuleStore(try RuleConfig.parse(yaml: Self.config(["a:ratio"])))
        let provider = PrometheusMetricsProvider(
            rules: store, prometheus: FakePrometheus(.success([])), pods: ProviderTests.pods, logger: Logger(label: "test"),
            metricsFactory: NOOPMetricsHandler.instance
        )
        #expect(provider.listMetrics().map(\.metric) == ["a:ratio"])
        #expect(await Self.reloader(store).reload(Self.config(["a:ratio", "b:ratio"])))
        #expect(provider.listMetrics().map(\.metric) == ["a:ratio", "b:ratio"])
    }

    @Test(arguments: [
        "metrics: [",
        "metrics: [{name: c:ratio}]",
        "rules: []",
        "metrics:\n  - name: dup\n    query: \"\(query)\"\n  - name: dup\n    query: \"\(query)\"\n",
    ])
    func anInvalidFileKeepsTheRulesInForce(text: String) async throws {
        let store = RuleStore(try RuleConfig.parse(yaml: Self.config(["a:ratio"])))
        #expect(await !Self.reloader(store).reload(text))
        #expect(store.current.rules.map(\.name) == ["a:ratio"])
    }
}
