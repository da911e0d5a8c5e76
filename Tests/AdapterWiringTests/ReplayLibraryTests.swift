import AdapterWiring
import Foundation
import HorizontalScaling
import PrometheusClient
import MetricRules
import Testing

/// The parts of `replay` and `hpa-controller` that decide something, tested without a process.
@Suite("replay and hpa-controller: history chunks, reports, the adapter's answer as the HPA reads it")
struct ReplayLibraryTests {
    @Test func chunksCoverTheRangeUnderPrometheusPointLimit() {
        let history = ReplayHistory(from: 1000, to: 1000 + 15 * 25_000, step: 15)
        #expect(history.count == 25_001)
        let expected: [ReplayHistory.Chunk] = [
            .init(start: 1000, end: 150_985),
            .init(start: 151_000, end: 300_985),
            .init(start: 301_000, end: 376_000),
        ]
        #expect(history.chunks() == expected)
    }

    @Test func stepsDoNotDrift() {
        // 1.1 s is not exact in binary: times are start + k·step in whole milliseconds.
        var history = ReplayHistory(from: 0, to: 11, step: 1.1)
        history.add([RangeSeries(labels: ["pod": "p"], samples: [(timestamp: 9.9, value: "0.5"), (timestamp: 11, value: "NaN")])], nameLabel: "pod")
        let observations = history.observations
        #expect(observations.count == 11)
        #expect(observations[9] == .init(time: 9.9, values: ["p": 500]))
        #expect(observations[10] == .init(time: 11, values: [:]))
        #expect(history.seriesSeen == 1)
    }

    @Test func seriesWithoutTheObjectLabelAreIgnored() {
        var history = ReplayHistory(from: 0, to: 15, step: 15)
        history.add([RangeSeries(labels: ["job": "x"], samples: [(timestamp: 0, value: "1")])], nameLabel: "pod")
        #expect(history.observations.map(\.values) == [[:], [:]])
    }

    static let steps = [
        ReplaySimulation.Step(time: 0, recordedPods: 2, recordedAverage: 1500, simulatedValue: 1500, replicas: 1, desiredReplicas: 2, reason: "scale up"),
        ReplaySimulation.Step(time: 15, recordedPods: 2, recordedAverage: 900, simulatedValue: 900, replicas: 2, desiredReplicas: 2, reason: "within tolerance"),
        ReplaySimulation.Step(time: 30, recordedPods: 0, recordedAverage: nil, simulatedValue: nil, replicas: 2, desiredReplicas: 2, reason: "no data"),
    ]

    @Test func tableShowsChangesAndASummary() {
        #expect(ReplayReport.table(Self.steps, target: 1000, allRows: false) == [
            "TIME (UTC)  PODS RECORDED  RECORDED AVG  PER REPLICA  REPLICAS  DECISION",
            "00:00:00    2              1.500         1.500        1 → 2     scale up",
            "syncs: 3, replica changes: 0, peak replicas: 2, mean replicas: 1.67, target: 1",
        ])
        #expect(ReplayReport.table(Self.steps, target: 1000, allRows: true).count == 5)
    }

    @Test func csvHasEverySync() {
        #expect(ReplayReport.csv(Self.steps) == """
            time,recorded_pods,recorded_average_milli,simulated_milli,replicas,desired,reason,missing_pods
            0,2,1500,1500,1,2,"scale up",0
            15,2,900,900,2,2,"within tolerance",0
            30,0,,,2,2,"no data",0

            """)
    }

    @Test(arguments: [
        (200, #"{"kind":"MetricValueList","items":[{"describedObject":{"name":"a"},"value":"1500m"},{"describedObject":{"name":"b"},"value":"2"}]}"#,
         MetricReading.pods([.init(podName: "a", milliValue: 1500), .init(podName: "b", milliValue: 2000)]), nil),
        (200, #"{"kind":"MetricValueList","items":[]}"#, .unavailable(reason: "no metrics returned"), "no metrics returned"),
        (503, #"{"kind":"Status","message":"unable to fetch metric m: Prometheus is unreachable"}"#,
         .unavailable(reason: "unable to fetch metric m: Prometheus is unreachable"), "HTTP 503: unable to fetch metric m: Prometheus is unreachable"),
        (502, "<html>bad gateway</html>", .unavailable(reason: "<html>bad gateway</html>"), "HTTP 502: <html>bad gateway</html>"),
    ] as [(UInt, String, MetricReading, String?)])
    func adapterAnswerAsTheHPAReadsIt(status: UInt, body: String, metric: MetricReading, error: String?) {
        let reading = MetricValueListReading(status: status, body: Data(body.utf8))
        #expect(reading.metric == metric)
        #expect(reading.error == error)
    }
}

@Suite("replay's time flags and explain's report")
struct FlagAndReportTests {
    @Test(arguments: [
        ("now", 1_795_000_000.0),
        ("now-6h", 1_794_978_400.0),
        ("now-90s", 1_794_999_910.0),
        ("1794000000", 1_794_000_000.0),
        ("2026-11-29T10:00:00Z", 1_795_946_400.0),
    ])
    func timeFlags(text: String, seconds: Double) throws {
        #expect(try TimeFlag.parse(text, now: 1_795_000_000.7, flag: "--start") == seconds)
    }

    @Test func aTimeFlagThatIsNoTime() {
        #expect {
            _ = try TimeFlag.parse("yesterday", now: 0, flag: "--start")
        } throws: { error in
            "\(error)" == #"--start "yesterday" is not RFC 3339, unix seconds, now or now-<duration>"#
        }
    }

    @Test func explainReportsTheRuleTheVerdictsAndTheAnswer() {
        var explanation = Explanation()
        explanation.rule = MetricRule.tritonQueueComputeRatio
        explanation.promql = "q"
        explanation.queryDuration = .milliseconds(12)
        explanation.verdicts = [
            .init(object: "triton-0", verdict: "kept", value: "1500m"),
            .init(object: "other", verdict: "not selected: its labels do not match labelSelector"),
        ]
        explanation.outcome = .success([])
        #expect(ExplanationReport.render(explanation, path: "/p", rulesSource: "built-in", prometheusURL: "http://p:9090").split(separator: "\n") == [
            "request:     /p",
            "rule:        triton:queue_compute:ratio for pods (from built-in; window 60s, object label pod)",
            "promql:      q",
            "prometheus:  http://p:9090 answered in 12.0 ms",
            "objects:",
            "  triton-0  kept 1500m",
            "  other     not selected: its labels do not match labelSelector",
            "answer:      200 MetricValueList with 0 items",
            "             (the HPA reports an empty list as \"no metrics returned\" and holds its replicas)",
        ])
    }
}
