import Foundation
import HorizontalScaling

/// An SVG of a replay: the recorded average and the simulated per-replica value against the target
/// (left axis, milli-units shown as ratios), and the replica count (right axis).
public enum ReplayPlot {
    public static func svg(steps: [ReplaySimulation.Step], targetMilli: Int64, maxReplicas: Int32, title: String) -> String {
        let width = 960.0, height = 420.0, left = 70.0, right = 60.0, top = 40.0, bottom = 50.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        guard let first = steps.first?.time, let last = steps.last?.time else { return "" }
        let span = max(last - first, 1)
        let peak = steps.compactMap { max($0.recordedAverage ?? 0, $0.simulatedValue ?? 0) }.max() ?? 0
        // The value axis ends on a round ratio (a multiple of 0.5) above the peak and twice the target.
        let valueTop = (Double(max(peak, targetMilli * 2)) * 1.05 / 500).rounded(.up) * 500
        func x(_ time: Double) -> Double { left + (time - first) / span * plotWidth }
        func y(_ milli: Int64) -> Double { top + plotHeight - Double(milli) / valueTop * plotHeight }
        func yReplicas(_ replicas: Int32) -> Double { top + plotHeight - Double(replicas) / Double(maxReplicas + 1) * plotHeight }
        func polyline(_ points: [(Double, Double)], color: String, width: Double = 1.5, dash: String? = nil) -> String {
            let text = points.map { String(format: "%.1f,%.1f", $0.0, $0.1) }.joined(separator: " ")
            return #"<polyline fill="none" stroke="\#(color)" stroke-width="\#(width)"\#(dash.map { #" stroke-dasharray="\#($0)""# } ?? "") points="\#(text)"/>"#
        }
        var parts: [String] = []
        parts.append(#"<svg xmlns="http://www.w3.org/2000/svg" width="\#(Int(width))" height="\#(Int(height))" font-family="sans-serif" font-size="12">"#)
        parts.append(#"<rect width="100%" height="100%" fill="white"/>"#)
        parts.append(#"<text x="\#(Int(left))" y="22" font-size="15">\#(escape(title))</text>"#)
        parts.append(#"<rect x="\#(left)" y="\#(top)" width="\#(plotWidth)" height="\#(plotHeight)" fill="none" stroke="gray"/>"#)
        let tickStep = valueTop / 500 > 8 ? 1000.0 : 500.0
        for tick in 0...Int(valueTop / tickStep) {
            let milli = Int64(Double(tick) * tickStep)
            parts.append(#"<text x="\#(f(left - 8))" y="\#(f(y(milli) + 4))" text-anchor="end">\#(String(format: "%.2f", Double(milli) / 1000))</text>"#)
        }
        for replicas in 0...maxReplicas {
            parts.append(#"<text x="\#(f(width - right + 8))" y="\#(f(yReplicas(replicas) + 4))" fill="seagreen">\#(replicas)</text>"#)
        }
        for tick in 0...6 {
            let time = first + span * Double(tick) / 6
            let label = Self.clock(time)
            parts.append(#"<text x="\#(f(x(time)))" y="\#(f(height - bottom + 18))" text-anchor="middle">\#(label)</text>"#)
        }
        parts.append(polyline([(left, y(targetMilli)), (left + plotWidth, y(targetMilli))], color: "crimson", width: 1, dash: "6,4"))
        parts.append(polyline(steps.compactMap { step in step.recordedAverage.map { (x(step.time), y($0)) } }, color: "gray"))
        parts.append(polyline(steps.compactMap { step in step.simulatedValue.map { (x(step.time), y($0)) } }, color: "steelblue", width: 2))
        var replicaPoints: [(Double, Double)] = []
        for step in steps {
            if let previous = replicaPoints.last { replicaPoints.append((x(step.time), previous.1)) }
            replicaPoints.append((x(step.time), yReplicas(step.replicas)))
        }
        parts.append(polyline(replicaPoints, color: "seagreen", width: 2.5))
        let legend = [("gray", "recorded average (pods that ran)"), ("steelblue", "per replica, replayed"), ("crimson", "target"), ("seagreen", "replicas (right axis)")]
        for (index, entry) in legend.enumerated() {
            let lx = left + 10 + [0.0, 250, 420, 520][index]
            parts.append(#"<line x1="\#(f(lx))" y1="\#(f(top + 14))" x2="\#(f(lx + 24))" y2="\#(f(top + 14))" stroke="\#(entry.0)" stroke-width="2.5"/>"#)
            parts.append(#"<text x="\#(f(lx + 30))" y="\#(f(top + 18))">\#(entry.1)</text>"#)
        }
        parts.append(#"<text x="16" y="\#(top + plotHeight / 2)" transform="rotate(-90 16 \#(top + plotHeight / 2))" text-anchor="middle">queue / compute ratio</text>"#)
        parts.append("</svg>")
        return parts.joined(separator: "\n") + "\n"
    }

    private static func f(_ value: Double) -> String { String(format: "%.1f", value) }

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
