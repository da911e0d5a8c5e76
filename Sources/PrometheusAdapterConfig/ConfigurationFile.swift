import Foundation
import MetricRules
import Yams

/// A `--config` file in either format every command reads: this adapter's `metrics:` list, or
/// prometheus-adapter's `rules:`/`externalRules:`, told apart by the top-level keys.
public enum ConfigurationFile: Sendable {
    /// Native rules, served as they are.
    case native(RuleSet)
    /// prometheus-adapter's rules: the metrics come from series discovery.
    case prometheusAdapter(MetricsDiscoveryConfig)

    /// Parses a file's text; each format's parser reports its own errors.
    ///
    /// - Throws: `RuleError` naming the rule and field, or saying that the file mixes the formats.
    public static func parse(_ text: String) throws(RuleError) -> ConfigurationFile {
        let keys = Set(((try? Yams.compose(yaml: text))??.mapping?.keys.compactMap(\.string)) ?? [])
        let adapterKeys: Set<String> = ["rules", "externalRules", "resourceRules"]
        if keys.contains("metrics"), !keys.isDisjoint(with: adapterKeys) {
            throw RuleError("the file mixes `metrics:` (this adapter's format) with prometheus-adapter's `rules:`/`externalRules:`; use one")
        }
        if !keys.isDisjoint(with: adapterKeys) {
            return .prometheusAdapter(try MetricsDiscoveryConfig.parse(yaml: text))
        }
        return .native(try RuleConfig.parse(yaml: text))
    }

    /// Reads and parses `path`.
    ///
    /// - Throws: `RuleError` prefixed with the path.
    public static func load(path: String) throws(RuleError) -> ConfigurationFile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw RuleError("\(path): \(error.localizedDescription)")
        }
        do {
            return try parse(text)
        } catch {
            throw RuleError("\(path): \(error.message)")
        }
    }

    /// A short name of the format, for logs.
    public var formatName: String {
        switch self {
        case .native: "metrics"
        case .prometheusAdapter: "prometheus-adapter"
        }
    }
}
