extension MetricsDiscoveryConfig {
    /// The custom metrics the relisted series expose, as prometheus-adapter's `SetSeries` computes them.
    ///
    /// For each rule, in order, and each series its `seriesQuery` returned, in order: the filters and
    /// `name.matches` keep or drop the series by name; `name.as` gives the metric name; every label that
    /// names a resource (an override, or the template and a resource the catalog knows) gives one
    /// metric on that resource. When two series give the same metric on the same resource, the later
    /// one wins, as in prometheus-adapter; `shadowed` reports it.
    ///
    /// Only a series' name and label names matter, so series that differ only in label values are
    /// considered once, which leaves the result unchanged. One difference: a series whose `name.as`
    /// expands to an empty name (`$1_per_second` is `${1_per_second}`) exposes nothing here, where
    /// prometheus-adapter lists a metric named "".
    ///
    /// - Parameters:
    ///   - seriesByQuery: The label sets (`__name__` included) each series query returned, keyed by
    ///     `seriesQuery` (see `seriesQueries`).
    ///   - maxSeriesPerQuery: At most this many series of one query are read; the rest are left out and the
    ///     query reported in `truncatedQueries`.
    public func discoverCustomMetrics(
        seriesByQuery: [String: [[String: String]]],
        maxSeriesPerQuery: Int = 100_000
    ) -> Discovery<DiscoveredMetric> {
        var shapes = SeriesShapes(seriesByQuery: seriesByQuery, limit: maxSeriesPerQuery)
        var found: [MetricKey: DiscoveredMetric] = [:]
        var result = Discovery<DiscoveredMetric>()
        var unattached: Set<String> = []
        Self.forEachNamedSeries(of: rules, in: &shapes) { rule, shape, metric in
            let resources = rule.resources.resources(forLabels: shape.labels)
            if resources.isEmpty { unattached.insert(shape.name) }
            for resource in resources {
                guard let label = rule.resources.label(for: resource) else { continue }
                let key = MetricKey(resource: resource.apiName, name: metric)
                if let earlier = found[key], earlier.seriesName != shape.name || earlier.ruleIndex != rule.index {
                    result.shadowed.append(.init(
                        metric: "\(resource.apiName)/\(metric)", lostSeries: earlier.seriesName, lostRule: earlier.ruleIndex,
                        keptSeries: shape.name, keptRule: rule.index
                    ))
                }
                found[key] = DiscoveredMetric(name: metric, resource: resource, seriesName: shape.name, rule: rule, resourceLabel: label)
            }
        }
        result.metrics = found.values.sorted { ($0.resource, $0.name) < ($1.resource, $1.name) }
        result.truncatedQueries = shapes.truncated.sorted()
        result.missingQueries = shapes.missing.sorted()
        result.unattachedSeries = unattached.sorted()
        return result
    }

    /// The external metrics the relisted series expose, as prometheus-adapter's external series registry
    /// computes them: one metric per name, across all `externalRules`, the later series winning.
    ///
    /// - Parameters: as `discoverCustomMetrics(seriesByQuery:maxSeriesPerQuery:)`.
    public func discoverExternalMetrics(
        seriesByQuery: [String: [[String: String]]],
        maxSeriesPerQuery: Int = 100_000
    ) -> Discovery<DiscoveredExternalMetric> {
        var shapes = SeriesShapes(seriesByQuery: seriesByQuery, limit: maxSeriesPerQuery)
        var found: [String: DiscoveredExternalMetric] = [:]
        var result = Discovery<DiscoveredExternalMetric>()
        Self.forEachNamedSeries(of: externalRules, in: &shapes) { rule, shape, metric in
            if let earlier = found[metric], earlier.seriesName != shape.name || earlier.ruleIndex != rule.index {
                result.shadowed.append(.init(
                    metric: metric, lostSeries: earlier.seriesName, lostRule: earlier.ruleIndex,
                    keptSeries: shape.name, keptRule: rule.index
                ))
            }
            found[metric] = DiscoveredExternalMetric(name: metric, seriesName: shape.name, rule: rule)
        }
        result.metrics = found.values.sorted { $0.name < $1.name }
        result.truncatedQueries = shapes.truncated.sorted()
        result.missingQueries = shapes.missing.sorted()
        return result
    }
}

extension MetricsDiscoveryConfig {
    /// Calls `body` for each rule, in order, and each series shape its query returned, in order, whose
    /// name the rule keeps and names (a non-empty metric name).
    fileprivate static func forEachNamedSeries(
        of rules: [DiscoveryRule],
        in shapes: inout SeriesShapes,
        _ body: (DiscoveryRule, SeriesShapes.Shape, String) -> Void
    ) {
        for rule in rules {
            guard let series = shapes.shapes(for: rule.seriesQuery) else { continue }
            var names: [String: String?] = [:]
            for shape in series {
                let metric = names[shape.name] ?? rule.metricName(forSeries: shape.name)
                names[shape.name] = metric
                guard let metric, !metric.isEmpty else { continue }
                body(rule, shape, metric)
            }
        }
    }
}

private struct MetricKey: Hashable {
    var resource: String
    var name: String
}

/// The distinct (name, label names) of each query's series, computed once per query and shared by the
/// rules that use it.
private struct SeriesShapes {
    struct Shape: Hashable {
        var name: String
        var labels: [String]
    }

    let seriesByQuery: [String: [[String: String]]]
    let limit: Int
    private var cache: [String: [Shape]] = [:]
    private(set) var truncated: Set<String> = []
    private(set) var missing: Set<String> = []

    init(seriesByQuery: [String: [[String: String]]], limit: Int) {
        self.seriesByQuery = seriesByQuery
        self.limit = max(limit, 0)
    }

    /// The shapes in the order of their last occurrence: replaying them gives the same winners as
    /// replaying every series.
    mutating func shapes(for query: String) -> [Shape]? {
        if let cached = cache[query] { return cached }
        guard let series = seriesByQuery[query] else {
            missing.insert(query)
            return nil
        }
        if series.count > limit { truncated.insert(query) }
        var seen: Set<Shape> = []
        var shapes: [Shape] = []
        for labels in series.prefix(limit).reversed() {
            let shape = Shape(name: labels["__name__"] ?? "", labels: labels.keys.filter { $0 != "__name__" }.sorted())
            if seen.insert(shape).inserted { shapes.append(shape) }
        }
        shapes.reverse()
        cache[query] = shapes
        return shapes
    }
}
