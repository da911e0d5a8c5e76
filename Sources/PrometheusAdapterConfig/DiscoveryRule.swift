import CustomMetricsAPI
import GoTemplate
import MetricRules
import Yams

/// One entry of `rules:` or `externalRules:`, validated: how series are found, filtered, named, attached
/// to Kubernetes objects and queried.
///
/// ```yaml
/// - seriesQuery: '{__name__=~"^container_.*",namespace!="",pod!=""}'   # sent to /api/v1/series
///   seriesFilters: [{isNot: "^container_.*_seconds_total$"}]           # on the series name
///   resources: {overrides: {namespace: {resource: namespace}, pod: {resource: pod}}}
///   name: {matches: "^container_(.*)_total$", as: "${1}_per_second"}
///   metricsQuery: 'sum(rate(<<.Series>>{<<.LabelMatchers>>}[2m])) by (<<.GroupBy>>)'
/// ```
///
/// As in prometheus-adapter, `name.matches` also filters (a series whose name it does not match exposes
/// nothing); it defaults to `.*`, and `as` defaults to `$0` without capture groups, `$1` with one, and
/// is required with more.
public struct DiscoveryRule: Sendable, Hashable {
    /// Which list the rule is in.
    public enum Kind: String, Sendable, Hashable {
        /// `rules:`, served as custom.metrics.k8s.io.
        case custom = "rules"
        /// `externalRules:`, served as external.metrics.k8s.io.
        case external = "externalRules"
    }

    /// Where the rule is in the file (`rules[2]`), for messages.
    public let location: String
    /// The rule's position in its list.
    public let index: Int
    public let kind: Kind
    /// The series selector to relist (`GET /api/v1/series?match[]=…`).
    public let seriesQuery: String
    /// `metricsQuery` as written.
    public let metricsQuery: String
    /// The rate window the query uses: the range of its first range selector (`[2m]` → 120), nil when
    /// it has none (a gauge). prometheus-adapter reports no window; this adapter reports this one.
    public let windowSeconds: Int64?

    let filters: [(regex: GoRegex, keep: Bool)]
    let nameMatches: GoRegex
    let nameAs: String
    let resources: ResourceMapping
    let query: GoTemplate

    /// `seriesFilters`: each `is` keeps, each `isNot` drops, series whose name matches.
    private static func filters(_ map: StrictMapping, location: String) throws(RuleError) -> [(regex: GoRegex, keep: Bool)] {
        var filters: [(regex: GoRegex, keep: Bool)] = []
        for (position, filterNode) in try map.sequence("seriesFilters").enumerated() {
            let path = "\(location).seriesFilters[\(position)]"
            let filter = try StrictMapping(filterNode, path: path, allowed: ["is", "isNot"])
            let positive = try filter.string("is") ?? ""
            let negative = try filter.string("isNot") ?? ""
            guard positive.isEmpty || negative.isEmpty else {
                throw RuleError("\(path): has both `is` and `isNot`; write one filter for each")
            }
            guard !(positive.isEmpty && negative.isEmpty) else { throw RuleError("\(path): needs `is` or `isNot`") }
            do {
                filters.append((try GoRegex(positive.isEmpty ? negative : positive), !positive.isEmpty))
            } catch {
                throw RuleError("\(path).\(positive.isEmpty ? "isNot" : "is"): \(error.message)")
            }
        }
        return filters
    }

    /// The fields prometheus-adapter passes to `metricsQuery` (its `queryTemplateArgs`).
    static let queryFields = ["Series", "LabelMatchers", "LabelValuesByName", "GroupBy", "GroupBySlice"]

    init(_ node: Node, kind: Kind, index: Int, catalog: ResourceCatalog) throws(RuleError) {
        let location = "\(kind.rawValue)[\(index)]"
        let map = try StrictMapping(
            node, path: location, allowed: ["seriesQuery", "seriesFilters", "resources", "name", "metricsQuery"]
        )
        self.location = location
        self.index = index
        self.kind = kind
        let seriesQuery = try map.string("seriesQuery")?.trimmingTemplateSpaces ?? ""
        guard !seriesQuery.isEmpty else { throw RuleError("\(location): seriesQuery is empty") }
        self.seriesQuery = seriesQuery

        var filters = try Self.filters(map, location: location)

        let name = try StrictMapping(map.node("name"), path: "\(location).name", allowed: ["matches", "as"])
        let matches = try name.string("matches") ?? ""
        do {
            self.nameMatches = try GoRegex(matches.isEmpty ? ".*" : matches)
        } catch {
            throw RuleError("\(location).name.matches: \(error.message)")
        }
        if !matches.isEmpty { filters.append((nameMatches, true)) }
        self.filters = filters
        if let nameAs = try name.string("as"), !nameAs.isEmpty {
            self.nameAs = nameAs
        } else {
            switch nameMatches.captureCount {
            case 0: self.nameAs = "$0"
            case 1: self.nameAs = "$1"
            default:
                throw RuleError(
                    "\(location).name.as: is required: \(String(reflecting: matches)) has \(nameMatches.captureCount) capture groups"
                )
            }
        }

        self.resources = try ResourceMapping(map.node("resources"), path: "\(location).resources", catalog: catalog)
        let metricsQuery = try map.string("metricsQuery")?.trimmingTemplateSpaces ?? ""
        guard !metricsQuery.isEmpty else { throw RuleError("\(location): metricsQuery is empty") }
        self.metricsQuery = metricsQuery
        do {
            self.query = try GoTemplate(metricsQuery, rootFields: Self.queryFields)
        } catch {
            throw RuleError("\(location).metricsQuery: \(error.message)")
        }
        self.windowSeconds = Self.firstRange(in: metricsQuery)
        try validateScope()
        try tryQuery()
    }

    /// The API name of the metric a series exposes, or nil when the filters (with `name.matches`) drop it.
    func metricName(forSeries series: String) -> String? {
        for filter in filters where filter.regex.matches(series) != filter.keep { return nil }
        return nameMatches.expand(nameAs, matching: series)
    }

    /// Refuses a rule whose every request would fail in prometheus-adapter for want of a namespace label.
    private func validateScope() throws(RuleError) {
        let path = "\(location).resources"
        switch kind {
        case .custom:
            guard !resources.isEmpty else {
                throw RuleError("\(path): needs `overrides` or `template`: without them no series names a Kubernetes object, so the rule exposes nothing")
            }
            guard resources.namespaceLabel == nil else { return }
            let namespaced = resources.overrides.sorted { $0.key < $1.key }
                .first { $0.value.namespaced }
            if let (label, resource) = namespaced {
                throw RuleError(
                    "\(path).overrides: \"\(label)\" maps to \(resource.apiName), which is namespaced, but no label maps to namespaces: "
                        + "add `namespace: {resource: namespace}` (prometheus-adapter accepts this rule but fails every request for it)"
                )
            }
        case .external:
            if resources.namespaced ?? true, resources.namespaceLabel == nil {
                throw RuleError(
                    "\(path): the rule is namespaced (the default) but no label maps to namespaces: add "
                        + "`overrides: {namespace: {resource: namespace}}`, or `namespaced: false` to ignore the request's namespace "
                        + "(prometheus-adapter accepts this rule but fails every request for it)"
                )
            }
        }
    }

    /// Executes `metricsQuery` once with typical arguments, so a template that cannot run fails at start.
    private func tryQuery() throws(RuleError) {
        let label = kind == .custom ? "pod" : nil
        let arguments = QueryArguments(
            series: "series", matchers: [.init("namespace", .equal, "default")],
            valuesByName: ["namespace": "default"].merging(label.map { [$0: ".+"] } ?? [:]) { $1 },
            groupBy: label.map { [$0] } ?? []
        )
        let text: String
        do {
            text = try query.render(arguments.templateValue)
        } catch {
            throw RuleError("\(location).metricsQuery: \(error.message)")
        }
        if text.allSatisfy(\.isTemplateSpace) {
            throw RuleError("\(location).metricsQuery: the template produces an empty query")
        }
    }

    /// The seconds of the first `[…]` range in `query` that is a Prometheus duration.
    static func firstRange(in query: String) -> Int64? {
        var rest = Substring(query)
        while let open = rest.firstIndex(of: "[") {
            rest = rest[rest.index(after: open)...]
            let inside = rest.prefix { $0 != "]" && $0 != ":" }
            if let seconds = PrometheusDuration.seconds(inside.trimmingTemplateSpaces) { return seconds }
        }
        return nil
    }

    public static func == (lhs: DiscoveryRule, rhs: DiscoveryRule) -> Bool {
        lhs.location == rhs.location && lhs.seriesQuery == rhs.seriesQuery && lhs.metricsQuery == rhs.metricsQuery
            && lhs.nameMatches == rhs.nameMatches && lhs.nameAs == rhs.nameAs && lhs.resources == rhs.resources
            && lhs.filters.map(\.regex) == rhs.filters.map(\.regex) && lhs.filters.map(\.keep) == rhs.filters.map(\.keep)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(location)
        hasher.combine(seriesQuery)
        hasher.combine(metricsQuery)
    }
}

extension StringProtocol {
    var trimmingTemplateSpaces: String {
        String(drop { $0.isTemplateSpace }.reversed().drop { $0.isTemplateSpace }.reversed())
    }
}
