import CustomMetricsAPI
import HorizontalScaling
import PrometheusClient

/// A stretch of Prometheus history read as the HPA would have seen it: one observation per sync, each
/// pod's value in milli-units.
///
/// Sync times are keyed in whole milliseconds (Prometheus' resolution), computed as start + k·step, so a
/// step such as 1.1 s never drifts away from the timestamps Prometheus returns. The range is read in
/// chunks that stay under Prometheus' 11,000 points per series.
public struct ReplayHistory: Sendable {
    /// One `query_range` call: its first and last sync, in seconds.
    public struct Chunk: Sendable, Equatable {
        public var start: Double
        public var end: Double

        public init(start: Double, end: Double) {
            self.start = start
            self.end = end
        }
    }

    let fromMilliseconds: Int64
    let stepMilliseconds: Int64
    /// The number of syncs in the range.
    public let count: Int64
    private var byTime: [Int64: [String: Int64]] = [:]
    private var loadByTime: [Int64: [String: [ReplayLoadQuery: Double]]] = [:]
    /// How many series the chunks returned in all.
    public private(set) var seriesSeen = 0

    /// - Parameters: `from` and `to` in seconds since the epoch, `step` in seconds.
    public init(from: Double, to: Double, step: Double) {
        stepMilliseconds = max(Int64((step * 1000).rounded()), 1)
        fromMilliseconds = Int64((from * 1000).rounded())
        count = Int64(((to - from) * 1000).rounded(.down)) / stepMilliseconds + 1
    }

    /// The range queries that read the whole range, `perChunk` syncs each.
    public func chunks(perChunk: Int64 = 10_000) -> [Chunk] {
        stride(from: Int64(0), to: count, by: Int(perChunk)).map { first in
            let last = min(first + perChunk, count) - 1
            return Chunk(
                start: Double(fromMilliseconds + first * stepMilliseconds) / 1000,
                end: Double(fromMilliseconds + last * stepMilliseconds) / 1000
            )
        }
    }

    /// The step as Prometheus is asked for it, in seconds.
    public var step: Double { Double(stepMilliseconds) / 1000 }

    /// Records one chunk's series: each pod (the series' `nameLabel`) with a finite value at a sync.
    public mutating func add(_ series: [RangeSeries], nameLabel: String) {
        seriesSeen += series.count
        for entry in series {
            guard let pod = entry.labels[nameLabel] else { continue }
            for sample in entry.samples {
                guard let milli = Quantity(decimal: sample.value)?.milliValue else { continue }
                byTime[Int64((sample.timestamp * 1000).rounded()), default: [:]][pod] = milli
            }
        }
    }

    /// Records one chunk of a load series (`ReplayLoadQuery`): each pod's finite rate at a sync.
    public mutating func addLoad(_ series: [RangeSeries], nameLabel: String, query: ReplayLoadQuery) {
        for entry in series {
            guard let pod = entry.labels[nameLabel] else { continue }
            for sample in entry.samples {
                guard let value = Double(sample.value), value.isFinite else { continue }
                loadByTime[Int64((sample.timestamp * 1000).rounded()), default: [:]][pod, default: [:]][query] = value
            }
        }
    }

    /// One observation per sync, empty where nothing was recorded; a pod's load where both of its load
    /// series have a value.
    public var observations: [ReplaySimulation.Observation] {
        (0..<count).map { index in
            let time = fromMilliseconds + index * stepMilliseconds
            let load = (loadByTime[time] ?? [:]).compactMapValues { rates -> PodLoad? in
                guard let inServer = rates[.inServer], let compute = rates[.compute] else { return nil }
                return PodLoad(inServerSeconds: inServer, computeSeconds: compute)
            }
            return ReplaySimulation.Observation(time: Double(time) / 1000, values: byTime[time] ?? [:], load: load)
        }
    }
}
