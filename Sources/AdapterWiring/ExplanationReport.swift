import CustomMetricsAPI
import Foundation
import MetricRules

/// What `explain` prints: the request, the rule, the PromQL, Prometheus' timing, each object's verdict
/// and the answer the API gives.
public enum ExplanationReport {
    public static func render(_ explanation: Explanation, path: String, rulesSource: String, prometheusURL: String) -> String {
        var lines = ["request:     \(path)"]
        if let rule = explanation.rule {
            lines.append("rule:        \(rule.name) for \(rule.resource) (from \(rulesSource); window \(rule.windowSeconds.map { "\($0)s" } ?? "none"), object label \(rule.nameLabel))")
        } else if !explanation.servedMetrics.isEmpty {
            lines.append("rules:       \(rulesSource) serves " + explanation.servedMetrics.map { "\($0.resource)/\($0.metric)" }.joined(separator: ", "))
        }
        if let promql = explanation.promql { lines.append("promql:      \(promql)") }
        if let duration = explanation.queryDuration {
            lines.append("prometheus:  \(prometheusURL) answered in \(String(format: "%.1f", duration.totalMilliseconds)) ms")
        }
        if !explanation.verdicts.isEmpty {
            lines.append("objects:")
            let width = explanation.verdicts.map(\.object.count).max() ?? 0
            for verdict in explanation.verdicts {
                let value = verdict.value.map { " \($0)" } ?? ""
                lines.append("  \(verdict.object.padding(toLength: width, withPad: " ", startingAt: 0))  \(verdict.verdict)\(value)")
            }
        }
        switch explanation.outcome {
        case .success(let values) where explanation.rule != nil:
            let items = values.map { "\($0.describedObject.name)=\($0.value)" }.joined(separator: ", ")
            lines.append("answer:      200 MetricValueList with \(values.count) item\(values.count == 1 ? "" : "s")" + (items.isEmpty ? "" : ": \(items)"))
            if values.isEmpty { lines.append("             (the HPA reports an empty list as \"no metrics returned\" and holds its replicas)") }
        case .success:
            lines.append("answer:      200 (discovery)")
        case .failure(let error):
            lines.append("answer:      \(error.code.httpStatus) \(error.code.reason): \(error.message)")
        }
        return lines.joined(separator: "\n")
    }
}
