import CustomMetricsAPI
import Foundation
import HorizontalScaling

/// What `replay` prints and writes: the table of syncs and the CSV of every sync.
public enum ReplayReport {
    /// The table: a header, the syncs where the replicas change (or every sync), and a summary line.
    public static func table(_ steps: [ReplaySimulation.Step], target: Int64, allRows: Bool) -> [String] {
        var lines = ["TIME (UTC)  PODS RECORDED  RECORDED AVG  PER REPLICA  REPLICAS  DECISION"]
        var previous: Int32?
        for step in steps where allRows || previous != step.desiredReplicas || step.replicas != step.desiredReplicas || previous == nil {
            let recorded = step.recordedAverage.map { String(format: "%.3f", Double($0) / 1000) } ?? "-"
            let simulated = step.simulatedValue.map { String(format: "%.3f", Double($0) / 1000) } ?? "-"
            let change = step.replicas == step.desiredReplicas ? "\(step.replicas)" : "\(step.replicas) → \(step.desiredReplicas)"
            lines.append(
                ReplayPlot.clock(step.time).padding(toLength: 12, withPad: " ", startingAt: 0)
                    + "\(step.recordedPods)".padding(toLength: 15, withPad: " ", startingAt: 0)
                    + recorded.padding(toLength: 14, withPad: " ", startingAt: 0)
                    + simulated.padding(toLength: 13, withPad: " ", startingAt: 0)
                    + change.padding(toLength: 10, withPad: " ", startingAt: 0)
                    + step.reason
            )
            previous = step.desiredReplicas
        }
        let replicaSyncs = steps.reduce(0.0) { $0 + Double($1.replicas) }
        let changes = zip(steps, steps.dropFirst()).filter { $0.0.desiredReplicas != $0.1.desiredReplicas }.count
        lines.append(
            "syncs: \(steps.count), replica changes: \(changes), peak replicas: \(steps.map(\.replicas).max() ?? 0), "
                + "mean replicas: \(String(format: "%.2f", steps.isEmpty ? 0 : replicaSyncs / Double(steps.count))), "
                + "target: \(Quantity(milli: target))"
        )
        return lines
    }

    /// Every sync as CSV, with a header row.
    public static func csv(_ steps: [ReplaySimulation.Step]) -> String {
        var text = "time,recorded_pods,recorded_average_milli,simulated_milli,replicas,desired,reason,missing_pods\n"
        for step in steps {
            text += "\(Int(step.time)),\(step.recordedPods),\(step.recordedAverage.map(String.init) ?? ""),"
                + "\(step.simulatedValue.map(String.init) ?? ""),\(step.replicas),\(step.desiredReplicas),\"\(step.reason)\",\(step.missingPods)\n"
        }
        return text
    }
}
