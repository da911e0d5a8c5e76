import GoTemplate
import CustomMetricsAPI
import MetricRules

/// What a `metricsQuery` template is executed with: prometheus-adapter's `queryTemplateArgs`
/// (`.Series`, `.LabelMatchers`, `.LabelValuesByName`, `.GroupBy`, `.GroupBySlice`).
///
/// Every value from a request is escaped before it reaches the template: in `.LabelMatchers` as PromQL
/// string literals; in `.LabelValuesByName` as the inside of a quoted PromQL string holding a regular
/// expression that matches exactly the value (quotes of either kind written as `\x22`/`\x27`, so a value
/// cannot close the template's own quotes). prometheus-adapter inserts those values raw.
struct QueryArguments: Sendable, Hashable {
    var series: String
    var matchers: [PromQL.Matcher]
    var valuesByName: [String: String]
    var groupBy: [String]

    init(series: String, matchers: [PromQL.Matcher], valuesByName: [String: String], groupBy: [String]) {
        self.series = series
        self.matchers = matchers
        self.valuesByName = valuesByName
        self.groupBy = groupBy
    }

    /// The arguments for one request, in prometheus-adapter's order: the metric selector's matchers
    /// (sorted by label, as a parsed `labels.Selector` is), then the namespace, then the object.
    ///
    /// - Parameters:
    ///   - objectLabel: The label holding object names (nil for external metrics).
    ///   - objectName: One object's name, matched exactly; nil for every object, in which case
    ///     `.LabelValuesByName` holds `.+` for the object label and, should nothing else restrict the
    ///     query, `.LabelMatchers` holds `<label>!=""` so that `{<<.LabelMatchers>>,…}` stays valid PromQL.
    /// - Throws: `MetricsError` 400 for a metric selector PromQL cannot express.
    init(
        series: String,
        metricSelector: LabelSelector,
        namespace: (label: String, value: String)?,
        objectLabel: String?,
        objectName: String?
    ) throws(MetricsError) {
        let sorted = LabelSelector(requirements: metricSelector.requirements.sorted { $0.key < $1.key })
        var matchers = try PromQL.matchers(for: sorted)
        var values: [String: String] = [:]
        for requirement in sorted.requirements {
            values[requirement.key] = Self.templateText(requirement.values.map(PromQL.regexQuoted).joined(separator: "|"))
        }
        if let namespace {
            matchers.append(.init(namespace.label, .equal, namespace.value))
            values[namespace.label] = Self.templateText(PromQL.regexQuoted(namespace.value))
        }
        if let objectLabel {
            if let objectName {
                matchers.append(.init(objectLabel, .equal, objectName))
                values[objectLabel] = Self.templateText(PromQL.regexQuoted(objectName))
            } else {
                if matchers.isEmpty { matchers.append(.init(objectLabel, .notEqual, "")) }
                values[objectLabel] = ".+"
            }
        }
        self.init(series: series, matchers: matchers, valuesByName: values, groupBy: objectLabel.map { [$0] } ?? [])
    }

    /// The arguments as the template sees them.
    var templateValue: TemplateValue {
        .record(typeName: "naming.queryTemplateArgs", fields: [
            .init(name: "Series", value: .string(series)),
            .init(name: "LabelMatchers", value: .string(matchers.map(\.description).joined(separator: ","))),
            .init(name: "LabelValuesByName", value: .stringMap(valuesByName)),
            .init(name: "GroupBy", value: .string(groupBy.joined(separator: ","))),
            .init(name: "GroupBySlice", value: .strings(groupBy)),
        ])
    }

    /// `text` escaped to sit inside a PromQL string quoted with `"`, `'` or `` ` ``.
    static func templateText(_ text: String) -> String {
        PromQL.escaped(text, quotesAsHex: true)
    }
}
