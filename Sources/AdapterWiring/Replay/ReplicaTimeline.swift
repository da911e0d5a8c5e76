import Foundation

/// The replica count a real run had over time: `time,replicas` rows (unix seconds, the count from then
/// on), as `scripts/what_if_export.py` writes from a closed-loop run, or from
/// `kube_deployment_spec_replicas` in any cluster.
public struct ReplicaTimeline: Sendable, Equatable {
    public struct Point: Sendable, Equatable {
        public var time: Double
        public var replicas: Int32

        public init(time: Double, replicas: Int32) {
            self.time = time
            self.replicas = replicas
        }
    }

    /// Changes in time order.
    public let points: [Point]

    public init(points: [Point]) {
        self.points = points.sorted { $0.time < $1.time }
    }

    /// Reads the CSV; a header row and blank lines are skipped.
    ///
    /// - Throws: `SettingsError` naming the first row that is not `time,replicas`.
    public init(csv text: String, source: String) throws {
        var points: [Point] = []
        for (number, line) in text.split(whereSeparator: \.isNewline).enumerated() {
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if number == 0, fields.first == "time" { continue }
            guard fields.count >= 2, let time = Double(fields[0]), let replicas = Int32(fields[1]), replicas >= 0 else {
                throw SettingsError("\(source): line \(number + 1) is not `time,replicas`: \(line)")
            }
            points.append(Point(time: time, replicas: replicas))
        }
        guard !points.isEmpty else { throw SettingsError("\(source): no `time,replicas` rows") }
        self.init(points: points)
    }

    /// The count at `time`: the last change at or before it; nil before the first.
    public func replicas(at time: Double) -> Int32? {
        var low = 0, high = points.count
        while low < high {
            let mid = (low + high) / 2
            if points[mid].time <= time { low = mid + 1 } else { high = mid }
        }
        return low == 0 ? nil : points[low - 1].replicas
    }
}
