import Foundation
import HorizontalScaling

/// A replay set against what a real run did, sync by sync: how often the counts agree and how far the
/// replica-minutes, the peak, the first scale-up and the return to the minimum are apart.
public struct ReplayComparison: Sendable, Equatable {
    /// One side's figures over the compared syncs.
    public struct Summary: Sendable, Equatable {
        public var replicaMinutes: Double
        public var peak: Int32
        /// Seconds from the first compared sync to the first count above the first one; nil if none.
        public var firstScaleUp: Double?
        /// Seconds from the first compared sync to the last step down to the minimum; nil if none.
        public var returnToMinimum: Double?

        public init(replicaMinutes: Double, peak: Int32, firstScaleUp: Double?, returnToMinimum: Double?) {
            self.replicaMinutes = replicaMinutes
            self.peak = peak
            self.firstScaleUp = firstScaleUp
            self.returnToMinimum = returnToMinimum
        }

        /// - Parameter counts: (seconds since the first compared sync, replicas) at each sync.
        init(counts: [(Double, Int32)], step: Double, minReplicas: Int32) {
            replicaMinutes = counts.reduce(0) { $0 + Double($1.1) } * step / 60
            peak = counts.map(\.1).max() ?? 0
            let initial = counts.first?.1 ?? 0
            firstScaleUp = counts.first { $0.1 > initial }?.0
            returnToMinimum = Array(zip(counts, counts.dropFirst())).last { $0.0.1 > minReplicas && $0.1.1 == minReplicas }?.1.0
        }
    }

    public var syncs: Int
    /// Shares of the compared syncs where the counts are equal, and at most one apart.
    public var withinZero: Double
    public var withinOne: Double
    public var replay: Summary
    public var real: Summary

    /// Compares at every step the timeline covers (from its first point on).
    public init(steps: [ReplaySimulation.Step], timeline: ReplicaTimeline, step: Double, minReplicas: Int32) {
        let pairs = steps.compactMap { s in timeline.replicas(at: s.time).map { (s.time, s.replicas, $0) } }
        let start = pairs.first?.0 ?? 0
        syncs = pairs.count
        let count = Double(max(pairs.count, 1))
        withinZero = Double(pairs.filter { $0.1 == $0.2 }.count) / count
        withinOne = Double(pairs.filter { abs($0.1 - $0.2) <= 1 }.count) / count
        replay = Summary(counts: pairs.map { ($0.0 - start, $0.1) }, step: step, minReplicas: minReplicas)
        real = Summary(counts: pairs.map { ($0.0 - start, $0.2) }, step: step, minReplicas: minReplicas)
    }

    /// (replay − real) / real replica-minutes; 0 when the real run had none.
    public var replicaMinutesError: Double {
        real.replicaMinutes == 0 ? 0 : (replay.replicaMinutes - real.replicaMinutes) / real.replicaMinutes
    }

    /// The comparison as printed under the replay's table.
    public var lines: [String] {
        func time(_ seconds: Double?) -> String {
            guard let seconds else { return "-" }
            return String(format: "%d:%02d", Int(seconds) / 60, Int(seconds) % 60)
        }
        return [
            "compared with the real run over \(syncs) syncs: \(Self.percent(withinZero)) equal, \(Self.percent(withinOne)) within ±1 replica",
            "                 REPLICA-MIN  PEAK  FIRST SCALE-UP  BACK AT MIN",
            "replay           " + String(format: "%-13.1f", replay.replicaMinutes) + "\(replay.peak)".padding(toLength: 6, withPad: " ", startingAt: 0)
                + time(replay.firstScaleUp).padding(toLength: 16, withPad: " ", startingAt: 0) + time(replay.returnToMinimum),
            "real             " + String(format: "%-13.1f", real.replicaMinutes) + "\(real.peak)".padding(toLength: 6, withPad: " ", startingAt: 0)
                + time(real.firstScaleUp).padding(toLength: 16, withPad: " ", startingAt: 0) + time(real.returnToMinimum),
            "replica-minutes error: " + String(format: "%+.1f%%", replicaMinutesError * 100),
        ]
    }

    static func percent(_ share: Double) -> String { String(format: "%.0f%%", share * 100) }
}
