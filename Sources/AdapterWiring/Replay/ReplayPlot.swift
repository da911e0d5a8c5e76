import Foundation
import HorizontalScaling

/// An SVG of a replay: the recorded average and the simulated per-replica value against the target
/// (left axis, milli-units shown as ratios), the replay's replica count and, when comparing, the real
/// run's (right axis).
///
/// Syncs without data are a gap: a value line stops there and starts again after it (a line drawn
/// across would show values nobody recorded), and the stretch is shaded. Time ticks fall on round times.
/// The target is drawn last, so the replica staircase never hides it; the legend draws each line with
/// the stroke, width and dash the plot uses.
public enum ReplayPlot {
    /// One line's look, shared by the plot and its legend.
    struct Stroke {
        var color: String
        var width: Double
        var dash: String?

        var attributes: String {
            #"stroke="\#(color)" stroke-width="\#(ReplayPlot.f(width))""# + (dash.map { #" stroke-dasharray="\#($0)""# } ?? "")
        }
    }

    static let recorded = Stroke(color: "gray", width: 1.5)
    static let simulated = Stroke(color: "steelblue", width: 2)
    static let target = Stroke(color: "crimson", width: 1.5, dash: "6,4")
    static let replicas = Stroke(color: "seagreen", width: 2.5)
    static let realReplicas = Stroke(color: "darkorange", width: 2, dash: "3,3")

    struct Frame {
        let width = 960.0, height = 420.0, left = 70.0, right = 60.0, top = 40.0, bottom = 50.0
        let first: Double, span: Double, valueTop: Double, maxReplicas: Int32
        var plotWidth: Double { width - left - right }
        var plotHeight: Double { height - top - bottom }
        func x(_ time: Double) -> Double { left + (time - first) / span * plotWidth }
        func y(_ milli: Int64) -> Double { top + plotHeight - Double(milli) / valueTop * plotHeight }
        func yReplicas(_ replicas: Int32) -> Double { top + plotHeight - Double(replicas) / Double(maxReplicas + 1) * plotHeight }
    }

    public static func svg(
        steps: [ReplaySimulation.Step], targetMilli: Int64, maxReplicas: Int32, title: String, real: ReplicaTimeline? = nil
    ) -> String {
        guard let first = steps.first?.time, let last = steps.last?.time else { return "" }
        let peak = steps.compactMap { max($0.recordedAverage ?? 0, $0.simulatedValue ?? 0) }.max() ?? 0
        // The value axis ends on a round ratio (a multiple of 0.5) above the peak and twice the target.
        let frame = Frame(
            first: first, span: max(last - first, 1), valueTop: (Double(max(peak, targetMilli * 2)) * 1.05 / 500).rounded(.up) * 500,
            maxReplicas: maxReplicas)
        var parts = [
            #"<svg xmlns="http://www.w3.org/2000/svg" width="\#(Int(frame.width))" height="\#(Int(frame.height))" font-family="sans-serif" font-size="12">"#,
            #"<rect width="100%" height="100%" fill="white"/>"#,
            #"<text x="\#(Int(frame.left))" y="22" font-size="15">\#(escape(title))</text>"#,
        ]
        parts += noDataShading(steps, frame: frame)
        parts.append(#"<rect x="\#(frame.left)" y="\#(frame.top)" width="\#(frame.plotWidth)" height="\#(frame.plotHeight)" fill="none" stroke="gray"/>"#)
        parts += axes(frame: frame, last: last)
        let replayStairs = staircase(steps.map { ($0.time, $0.replicas) })
        parts.append(polyline(replayStairs.map { (frame.x($0.0), frame.yReplicas($0.1)) }, replicas))
        if let real {
            let points = steps.compactMap { step in real.replicas(at: step.time).map { (step.time, $0) } }
            parts.append(polyline(staircase(points).map { (frame.x($0.0), frame.yReplicas($0.1)) }, realReplicas))
        }
        for segment in segments(steps, \.recordedAverage) {
            parts.append(polyline(segment.map { (frame.x($0.0), frame.y($0.1)) }, recorded))
        }
        for segment in segments(steps, \.simulatedValue) {
            parts.append(polyline(segment.map { (frame.x($0.0), frame.y($0.1)) }, simulated))
        }
        parts.append(polyline([(frame.left, frame.y(targetMilli)), (frame.left + frame.plotWidth, frame.y(targetMilli))], target))
        parts += legend(frame: frame, comparing: real != nil)
        parts.append("</svg>")
        return parts.joined(separator: "\n") + "\n"
    }

    /// Runs of consecutive syncs that have a value: one polyline each, so a gap stays a gap.
    static func segments(_ steps: [ReplaySimulation.Step], _ value: KeyPath<ReplaySimulation.Step, Int64?>) -> [[(Double, Int64)]] {
        var result: [[(Double, Int64)]] = [[]]
        for step in steps {
            if let milli = step[keyPath: value] {
                result[result.count - 1].append((step.time, milli))
            } else if !(result.last?.isEmpty ?? true) {
                result.append([])
            }
        }
        return result.filter { !$0.isEmpty }
    }

    /// A count held from each sync to the next: one point for the first sync, then two per sync.
    static func staircase(_ points: [(Double, Int32)]) -> [(Double, Int32)] {
        var result: [(Double, Int32)] = []
        for point in points {
            if let previous = result.last { result.append((point.0, previous.1)) }
            result.append(point)
        }
        return result
    }

    /// Tick times on round clock times (multiples of 15 s … 1 d, UTC), at most eight over the range.
    public static func timeTicks(from first: Double, to last: Double) -> [Double] {
        let candidates: [Double] = [15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400]
        let interval = candidates.first { (last - first) / $0 <= 8 } ?? 86400
        let start = (first / interval).rounded(.up) * interval
        return Array(stride(from: start, through: last, by: interval))
    }

    private static func axes(frame: Frame, last: Double) -> [String] {
        var parts: [String] = []
        let tickStep = frame.valueTop / 500 > 8 ? 1000.0 : 500.0
        for tick in 0...Int(frame.valueTop / tickStep) {
            let milli = Int64(Double(tick) * tickStep)
            parts.append(#"<text x="\#(f(frame.left - 8))" y="\#(f(frame.y(milli) + 4))" text-anchor="end">\#(String(format: "%.2f", Double(milli) / 1000))</text>"#)
        }
        for count in 0...frame.maxReplicas {
            parts.append(#"<text x="\#(f(frame.width - frame.right + 8))" y="\#(f(frame.yReplicas(count) + 4))" fill="seagreen">\#(count)</text>"#)
        }
        for time in timeTicks(from: frame.first, to: last) {
            let x = f(frame.x(time)), bottom = frame.height - frame.bottom
            parts.append(#"<line x1="\#(x)" y1="\#(f(bottom))" x2="\#(x)" y2="\#(f(bottom + 5))" stroke="gray"/>"#)
            parts.append(#"<text x="\#(x)" y="\#(f(bottom + 18))" text-anchor="middle">\#(clock(time))</text>"#)
        }
        let middle = frame.top + frame.plotHeight / 2
        parts.append(#"<text x="16" y="\#(middle)" transform="rotate(-90 16 \#(middle))" text-anchor="middle">queue / compute ratio</text>"#)
        return parts
    }

    /// A light band over each stretch of syncs without a recorded value.
    private static func noDataShading(_ steps: [ReplaySimulation.Step], frame: Frame) -> [String] {
        var parts: [String] = []
        var index = 0
        while index < steps.count {
            guard steps[index].recordedAverage == nil else { index += 1; continue }
            var end = index
            while end + 1 < steps.count, steps[end + 1].recordedAverage == nil { end += 1 }
            let x0 = frame.x(steps[max(index - 1, 0)].time), x1 = frame.x(steps[min(end + 1, steps.count - 1)].time)
            parts.append(#"<rect class="no-data" x="\#(f(x0))" y="\#(f(frame.top))" width="\#(f(max(x1 - x0, 1)))" height="\#(f(frame.plotHeight))" fill="whitesmoke"/>"#)
            index = end + 1
        }
        return parts
    }

    private static func legend(frame: Frame, comparing: Bool) -> [String] {
        var entries = [
            (recorded, "recorded average (pods that ran)"), (simulated, "per replica, replayed"), (target, "target"),
            (replicas, "replicas, replayed (right axis)"),
        ]
        if comparing { entries.append((realReplicas, "replicas, real run")) }
        var parts: [String] = []
        var lx = frame.left + 10
        for (stroke, label) in entries {
            parts.append(#"<line x1="\#(f(lx))" y1="\#(f(frame.top + 14))" x2="\#(f(lx + 24))" y2="\#(f(frame.top + 14))" \#(stroke.attributes)/>"#)
            parts.append(#"<text x="\#(f(lx + 30))" y="\#(f(frame.top + 18))">\#(label)</text>"#)
            lx += 40 + Double(label.count) * 6.2
        }
        return parts
    }

    private static func polyline(_ points: [(Double, Double)], _ stroke: Stroke) -> String {
        let text = points.map { String(format: "%.1f,%.1f", $0.0, $0.1) }.joined(separator: " ")
        return #"<polyline fill="none" \#(stroke.attributes) points="\#(text)"/>"#
    }

    static func f(_ value: Double) -> String { String(format: "%.1f", value) }

    public static func clock(_ time: Double) -> String {
        let formatter = DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "HH:mm:ss"
        return formatter.string(from: Date(timeIntervalSince1970: time))
    }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
