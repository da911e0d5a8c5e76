import Foundation
import HorizontalScaling
import Yams

/// An HPA manifest read from the YAML a user applies, with what the tools need from its first metric.
public struct HPASpecFile: Sendable {
    public let autoscaler: HorizontalPodAutoscaler
    /// `metrics[0].pods.metric.name`.
    public let metricName: String
    /// `metrics[0].pods.metric.selector` in the query form the HPA sends (`model=tensorrt_llm`), if any.
    public let metricLabelSelector: String?

    public init(path: String) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw SettingsError("--hpa \(path): \(error.localizedDescription)")
        }
        do {
            autoscaler = try YAMLDecoder().decode(HorizontalPodAutoscaler.self, from: text)
        } catch {
            throw SettingsError("--hpa \(path): not an autoscaling/v2 HorizontalPodAutoscaler: \(error)")
        }
        do {
            try autoscaler.spec.validate()
        } catch {
            throw SettingsError("--hpa \(path): \(error)")
        }
        guard autoscaler.spec.metrics.count == 1 else {
            throw SettingsError(
                "--hpa \(path): spec.metrics has \(autoscaler.spec.metrics.count) entries; these tools read one Pods metric "
                    + "from the adapter, and an unread metric would hold every scale-down"
            )
        }
        guard let first = autoscaler.spec.metrics.first, first.type == .pods, let pods = first.pods else {
            throw SettingsError("--hpa \(path): spec.metrics[0] must be a Pods metric (the adapter serves pods/<metric>)")
        }
        metricName = pods.metric.name
        metricLabelSelector = pods.metric.selector.map(Self.queryForm)
    }

    /// `matchLabels` and `matchExpressions` in the string syntax of `metav1.FormatLabelSelector`.
    static func queryForm(_ selector: HorizontalScaling.LabelSelector) -> String {
        var parts = (selector.matchLabels ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        for requirement in selector.matchExpressions ?? [] {
            let values = (requirement.values ?? []).sorted().joined(separator: ",")
            switch requirement.operator {
            case "In": parts.append("\(requirement.key) in (\(values))")
            case "NotIn": parts.append("\(requirement.key) notin (\(values))")
            case "Exists": parts.append(requirement.key)
            case "DoesNotExist": parts.append("!\(requirement.key)")
            default: parts.append("\(requirement.key) \(requirement.operator) (\(values))")
            }
        }
        return parts.joined(separator: ",")
    }
}

extension HPASpecFile {
    /// The request the HPA controller sends for this HPA's metric: `pods/*` in `namespace`, the scale
    /// target's selector as `labelSelector`, the metric's selector as `metricLabelSelector`.
    public func metricPath(namespace: String, labelSelector: String) -> String {
        var path = "/apis/custom.metrics.k8s.io/v1beta2/namespaces/\(namespace)/pods/%2A/\(metricName)"
            + "?labelSelector=\(labelSelector.queryParameterEncoded)"
        if let metricLabelSelector { path += "&metricLabelSelector=\(metricLabelSelector.queryParameterEncoded)" }
        return path
    }
}

extension String {
    /// Percent-encoding for one query parameter value.
    var queryParameterEncoded: String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return addingPercentEncoding(withAllowedCharacters: allowed) ?? self
    }
}
