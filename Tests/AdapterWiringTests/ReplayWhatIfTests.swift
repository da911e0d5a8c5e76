import AdapterWiring
import Foundation
import HorizontalScaling
import PrometheusClient
import Testing

/// What-if against real runs: load series in the history, the real run's timeline, the comparison, and
/// the plot's gaps, ticks and legend.
@Suite("replay: load series, real timelines, comparison, plot")
struct ReplayWhatIfTests {
    @Test func loadSeriesJoinThePodsValues() {
        var history = ReplayHistory(from: 0, to: 15, step: 15)
        history.add([RangeSeries(labels: ["pod": "a"], samples: [(timestamp: 0, value: "1.5"), (timestamp: 15, value: "2")])], nameLabel: "pod")
        history.addLoad([RangeSeries(labels: ["pod": "a"], samples: [(timestamp: 0, value: "2.5"), (timestamp: 15, value: "3")])], nameLabel: "pod", query: .inServer)
        history.addLoad([RangeSeries(labels: ["pod": "a"], samples: [(timestamp: 0, value: "1"), (timestamp: 15, value: "NaN")])], nameLabel: "pod", query: .compute)
        #expect(history.observations == [
            .init(time: 0, values: ["a": 1500], load: ["a": PodLoad(inServerSeconds: 2.5, computeSeconds: 1)]),
            .init(time: 15, values: ["a": 2000], load: [:]),
        ])
    }

    @Test(arguments: [
        ("time,replicas\n100,1\n130.5,3\n", [ReplicaTimeline.Point(time: 100, replicas: 1), .init(time: 130.5, replicas: 3)]),
        ("100,2\n\n90,1\n", [ReplicaTimeline.Point(time: 90, replicas: 1), .init(time: 100, replicas: 2)]),
    ])
    func timelineReadsTimeAndReplicas(csv: String, points: [ReplicaTimeline.Point]) throws {
        #expect(try ReplicaTimeline(csv: csv, source: "t.csv").points == points)
    }

    @Test(arguments: [
        ("time,replicas\n100,x\n", "t.csv: line 2 is not `time,replicas`: 100,x"),
        ("time,replicas\n", "t.csv: no `time,replicas` rows"),
    ])
    func timelineErrorsNameTheLine(csv: String, message: String) {
        let error = #expect(throws: SettingsError.self) { try ReplicaTimeline(csv: csv, source: "t.csv") }
        #expect(error?.description == message)
    }

    @Test(arguments: [(99.0, Int32?.none), (100, 1), (129, 1), (130, 3), (1000, 3)])
    func timelineCountIsTheLastChange(time: Double, replicas: Int32?) {
        let timeline = ReplicaTimeline(points: [.init(time: 100, replicas: 1), .init(time: 130, replicas: 3)])
        #expect(timeline.replicas(at: time) == replicas)
    }

    static func steps(_ replicas: [Int32], values: [Int64?]? = nil) -> [ReplaySimulation.Step] {
        replicas.enumerated().map { index, count in
            let value = values.map { $0[index] } ?? 500
            return ReplaySimulation.Step(
                time: 1000 + Double(index) * 60, recordedPods: value == nil ? 0 : 1, recordedAverage: value, simulatedValue: value,
                replicas: count, desiredReplicas: count, reason: "")
        }
    }

    @Test func comparisonCountsAgreementAndReplicaMinutes() {
        // replay 1 2 4 4 2 1, real 1 1 3 4 3 1, one sync a minute.
        let timeline = ReplicaTimeline(points: [
            .init(time: 1000, replicas: 1), .init(time: 1120, replicas: 3), .init(time: 1180, replicas: 4), .init(time: 1240, replicas: 3),
            .init(time: 1300, replicas: 1),
        ])
        let comparison = ReplayComparison(steps: Self.steps([1, 2, 4, 4, 2, 1]), timeline: timeline, step: 60, minReplicas: 1)
        #expect(comparison.syncs == 6)
        #expect(comparison.withinZero == 3.0 / 6)
        #expect(comparison.withinOne == 1)
        #expect(comparison.replay == .init(replicaMinutes: 14, peak: 4, firstScaleUp: 60, returnToMinimum: 300))
        #expect(comparison.real == .init(replicaMinutes: 13, peak: 4, firstScaleUp: 120, returnToMinimum: 300))
        #expect(comparison.lines == [
            "compared with the real run over 6 syncs: 50% equal, 100% within ±1 replica",
            "                 REPLICA-MIN  PEAK  FIRST SCALE-UP  BACK AT MIN",
            "replay           14.0         4     1:00            5:00",
            "real             13.0         4     2:00            5:00",
            "replica-minutes error: +7.7%",
        ])
    }

    static let gaps: [([Int64?], [[Int64]])] = [
        ([1, 2, nil, nil, 3, 4], [[1, 2], [3, 4]]),
        ([nil, 1, nil], [[1]]),
        ([nil, nil], []),
    ]

    @Test(arguments: gaps)
    func plotSegmentsBreakAtSyncsWithoutData(values: [Int64?], segments: [[Int64]]) {
        let steps = Self.steps(values.map { _ in 1 }, values: values)
        let svg = ReplayPlot.svg(steps: steps, targetMilli: 1000, maxReplicas: 4, title: "t")
        let blue = svg.split(separator: "\n").filter { $0.hasPrefix("<polyline") && $0.contains("steelblue") }
        #expect(blue.count == segments.count)
        let pointCounts = blue.map { line in
            line.components(separatedBy: #"points=""#).last?.split(separator: "\"").first?.split(separator: " ").count ?? 0
        }
        #expect(pointCounts == segments.map(\.count))
        #expect(svg.contains(#"class="no-data""#) == values.contains(nil))
    }

    static let ticks: [(Double, Double, [Double])] = [
        (1000, 1420, [1020, 1080, 1140, 1200, 1260, 1320, 1380]),
        (1_795_958_958, 1_795_959_948, [1_795_959_000, 1_795_959_300, 1_795_959_600, 1_795_959_900]),
        (0, 10800, [0, 1800, 3600, 5400, 7200, 9000, 10800]),
    ]

    @Test(arguments: ticks)
    func timeTicksFallOnRoundTimes(first: Double, last: Double, ticks: [Double]) {
        #expect(ReplayPlot.timeTicks(from: first, to: last) == ticks)
    }

    @Test func targetIsDrawnAboveTheStaircaseAndTheLegendDrawsLinesAsThePlot() {
        let timeline = ReplicaTimeline(points: [.init(time: 1000, replicas: 1)])
        let svg = ReplayPlot.svg(steps: Self.steps([1, 1, 2]), targetMilli: 1000, maxReplicas: 4, title: "t", real: timeline)
        let lines = svg.split(separator: "\n").map(String.init)
        let strokes = [
            #"stroke="gray" stroke-width="1.5""#, #"stroke="steelblue" stroke-width="2.0""#,
            #"stroke="crimson" stroke-width="1.5" stroke-dasharray="6,4""#, #"stroke="seagreen" stroke-width="2.5""#,
            #"stroke="darkorange" stroke-width="2.0" stroke-dasharray="3,3""#,
        ]
        for stroke in strokes {
            #expect(lines.contains { $0.hasPrefix("<polyline") && $0.contains(stroke) }, "plotted: \(stroke)")
            #expect(lines.contains { $0.hasPrefix("<line") && $0.contains(stroke) }, "in the legend: \(stroke)")
        }
        let target = lines.firstIndex { $0.hasPrefix("<polyline") && $0.contains("crimson") } ?? -1
        let stairs = lines.firstIndex { $0.hasPrefix("<polyline") && $0.contains("seagreen") } ?? Int.max
        #expect(target > stairs)
    }
}
