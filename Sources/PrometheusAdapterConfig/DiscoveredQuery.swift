import GoTemplate
import CustomMetricsAPI
import MetricRules

/// The PromQL of a discovered metric: its rule's `metricsQuery` (a Go template) executed with
/// prometheus-adapter's arguments for the metric's series and the request.
///
/// prometheus-adapter documents `<<.LabelMatchers>>` as the namespace matcher plus the object label
/// matching the requested names, `pod=~"pod1|pod2"` for a selection, with `<<.GroupBy>>` the object
/// label (docs/config.md, "Querying"). Here a selection (`objectName` nil) queries every object of the
/// namespace, grouped by the object label, and the provider keeps the objects it selected: the query's
/// size no longer grows with the selection (no HTTP 414, no regex over thousands of names), and it is
/// the same for every request of a namespace, so concurrent requests can share it. Only one named
/// object is matched, exactly (`pod="a"`), never by regex.
///
/// For external metrics (pkg/naming/metrics_query.go, `BuildExternal`) the arguments are the metric
/// selector's matchers, then the namespace when the rule is namespaced; `<<.GroupBy>>` is empty and
/// `<<.GroupBySlice>>` is `[]`.
struct DiscoveredQuery: PromQLTemplate, Hashable {
    let template: GoTemplate
    /// The Prometheus series name (`<<.Series>>`).
    let seriesName: String
    /// Whether the metric is external (no object label).
    let external: Bool

    var text: String { template.source }

    /// The template's fields and functions were checked when the configuration was parsed.
    func validate(for rule: MetricRule) throws(RuleError) {}

    /// - Throws: `MetricsError` 400 for a metric selector PromQL cannot express or a namespace that does
    ///   not fit the resource's scope; 500 when the template fails or produces nothing.
    func promql(for rule: MetricRule, namespace: String?, objectName: String?, metricSelector: LabelSelector) throws(MetricsError) -> String {
        var scope: (label: String, value: String)?
        switch (rule.namespaced, namespace) {
        case (false, _?) where !external:
            throw MetricsError(.badRequest, "\(rule.resource) are cluster-scoped: ask for \(rule.name) without a namespace")
        case (true, nil):
            throw MetricsError(.badRequest, "\(rule.resource) are namespaced: ask for \(rule.name) in a namespace")
        case (true, let namespace?):
            guard let namespaceLabel = rule.namespaceLabel else {
                throw MetricsError(.internalError, "unable to build the query for metric \(rule.name): no label holds namespaces")
            }
            scope = (namespaceLabel, namespace)
        case (false, _):
            break
        }
        let arguments = try QueryArguments(
            series: seriesName, metricSelector: metricSelector, namespace: scope,
            objectLabel: external ? nil : rule.nameLabel, objectName: external ? nil : objectName
        )
        let text: String
        do {
            text = try template.render(arguments.templateValue)
        } catch {
            throw MetricsError(.internalError, "unable to build the query for metric \(rule.name): \(error.message)")
        }
        guard !text.allSatisfy(\.isTemplateSpace) else {
            throw MetricsError(.internalError, "unable to build the query for metric \(rule.name): the template produced an empty query")
        }
        return text
    }
}
