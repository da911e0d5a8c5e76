import CustomMetricsAPI
import Foundation
import Yams

/// Reads the `--config` file: a YAML document whose `metrics:` list holds the adapter's own rules.
///
/// ```yaml
/// metrics:
///   - name: triton:queue_compute:ratio
///     resource: pods              # default pods
///     namespaceLabel: namespace   # default namespace (namespaced resources only)
///     nameLabel: pod              # default: the singular of resource (pod, namespace, node)
///     window: 1m                  # default 1m
///     query: >-
///       sum by (<<.GroupBy>>) (rate(nv_inference_queue_duration_us{<<.LabelMatchers>>}[<<.Window>>]))
///       / clamp_min(sum by (<<.GroupBy>>) (rate(nv_inference_compute_infer_duration_us{<<.LabelMatchers>>}[<<.Window>>])), 1)
/// ```
///
/// prometheus-adapter's format (`rules`, `externalRules`, `resourceRules`) is read by
/// `MetricsDiscoveryConfig`; `ConfigurationFile` tells the two apart. This parser refuses those keys rather
/// than half-reading such a file.
public enum RuleConfig {
    /// Parses and validates a configuration document.
    ///
    /// - Throws: `RuleError` whose message names the rule (by index and name) and the field.
    public static func parse(yaml text: String) throws(RuleError) -> RuleSet {
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw RuleError("the configuration is not valid YAML: \(error)")
        }
        guard let root = node?.mapping else {
            throw RuleError("the configuration must be a YAML mapping with a `metrics:` list")
        }
        for key in root.keys.compactMap(\.string) {
            switch key {
            case "metrics": continue
            case "rules", "externalRules", "resourceRules":
                throw RuleError(
                    "`\(key):` is prometheus-adapter's rule format, which this parser of `metrics:` does not read; "
                        + "load the file with ConfigurationFile, which reads both (see docs/configuration.md)"
                )
            default:
                throw RuleError("unknown top-level key `\(key)` (expected `metrics`)")
            }
        }
        guard let list = root["metrics"]?.sequence, !list.isEmpty else {
            throw RuleError("`metrics:` must be a non-empty list of rules")
        }
        var rules: [MetricRule] = []
        for (index, item) in list.enumerated() {
            let name = item.mapping?["name"]?.string ?? ""
            do {
                rules.append(try rule(from: item))
            } catch {
                throw error.at("metrics[\(index)]" + (name.isEmpty ? "" : " \"\(name)\""))
            }
        }
        return try RuleSet(rules: rules)
    }

    private static let fields: Set<String> = ["name", "resource", "namespaced", "namespaceLabel", "nameLabel", "window", "query"]

    private static func rule(from node: Node) throws(RuleError) -> MetricRule {
        guard let map = node.mapping else { throw RuleError("each rule must be a mapping") }
        for key in map.keys.compactMap(\.string) where !fields.contains(key) {
            throw RuleError("unknown field `\(key)` (expected one of \(fields.sorted().joined(separator: ", ")))")
        }
        func string(_ key: String) throws(RuleError) -> String? {
            guard let value = map[key] else { return nil }
            guard let scalar = value.scalar else { throw RuleError("`\(key)` must be a string") }
            return scalar.string
        }
        guard let name = try string("name"), !name.isEmpty else { throw RuleError("`name` is required") }
        guard let query = try string("query"), !query.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw RuleError("`query` is required")
        }
        let resource = try string("resource") ?? "pods"
        let namespaced: Bool
        if let value = map["namespaced"] {
            guard let flag = value.bool else { throw RuleError("`namespaced` must be true or false") }
            namespaced = flag
        } else {
            namespaced = resource == MetricRule.externalResource || ResourceCatalog.kubernetes.resource(apiName: resource).namespaced
        }
        let namespaceLabel = namespaced ? (try string("namespaceLabel") ?? "namespace") : nil
        if !namespaced, map["namespaceLabel"] != nil {
            throw RuleError("`namespaceLabel` is only meaningful for namespaced resources; \(resource) is cluster-scoped")
        }
        if resource == MetricRule.externalResource, !namespaced {
            throw RuleError("external metrics are always asked for in a namespace; drop `namespaced: false`")
        }
        let nameLabel = try string("nameLabel") ?? (resource == MetricRule.externalResource ? (namespaceLabel ?? "namespace") : ResourceCatalog.kubernetes.resource(apiName: resource).singular)
        let windowText = try string("window") ?? "1m"
        guard let window = PrometheusDuration.seconds(windowText) else {
            throw RuleError("`window` \"\(windowText)\" is not a Prometheus duration in whole seconds such as 30s, 1m or 1m30s")
        }
        return MetricRule(
            name: name,
            resource: resource,
            namespaced: namespaced,
            namespaceLabel: namespaceLabel,
            nameLabel: nameLabel,
            windowSeconds: window,
            query: try QueryTemplate(query.trimmingCharacters(in: .whitespacesAndNewlines))
        )
    }
}

/// Prometheus duration strings (`1m`, `30s`, `1h30m`), in whole seconds.
public enum PrometheusDuration {
    public static func seconds(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [("ms", 0), ("y", 31_536_000), ("w", 604_800), ("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)]
        var rest = Substring(text)
        var total: Int64 = 0
        var sawMilliseconds = false
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isNumber && $0.isASCII }
            guard !digits.isEmpty, digits.count <= 9, let amount = Int64(digits) else { return nil }
            rest = rest.dropFirst(digits.count)
            guard let (unit, factor) = units.first(where: { rest.hasPrefix($0.0) }) else { return nil }
            rest = rest.dropFirst(unit.count)
            if unit == "ms" {
                sawMilliseconds = amount != 0
            } else {
                total += amount * factor
            }
        }
        return sawMilliseconds || total == 0 ? nil : total
    }

    /// The shortest spelling of a whole number of seconds (`60` → `1m`, `90` → `90s`).
    public static func format(seconds: Int64) -> String {
        if seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}
