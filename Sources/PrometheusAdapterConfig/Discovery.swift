/// What one relist produced for one rule list: the metrics to serve, and what a person needs to see why
/// a metric is or is not there.
public struct Discovery<Metric: Sendable & Hashable>: Sendable, Hashable {
    /// The metrics, sorted by resource then name (external metrics by name).
    public var metrics: [Metric]
    /// Series queries whose answer held more series than the limit: only the first ones were read, so
    /// some metrics may be missing.
    public var truncatedQueries: [String]
    /// Series queries the input had no answer for (the relist of that query failed). prometheus-adapter
    /// keeps its previous list when any query fails; the caller decides.
    public var missingQueries: [String]
    /// Times a series took over a metric another series (or rule) had already claimed. prometheus-adapter
    /// keeps the last one silently: rules are meant to be mutually exclusive, and this shows where not.
    public var shadowed: [Shadowing]
    /// Series names that passed a custom rule's filters but carry no label naming a Kubernetes object, so
    /// they expose nothing (sorted, unique).
    public var unattachedSeries: [String]

    public init(
        metrics: [Metric] = [],
        truncatedQueries: [String] = [],
        missingQueries: [String] = [],
        shadowed: [Shadowing] = [],
        unattachedSeries: [String] = []
    ) {
        self.metrics = metrics
        self.truncatedQueries = truncatedQueries
        self.missingQueries = missingQueries
        self.shadowed = shadowed
        self.unattachedSeries = unattachedSeries
    }

    /// One metric claimed twice: the earlier claim lost.
    public struct Shadowing: Sendable, Hashable, CustomStringConvertible {
        /// `pods/<metric>` for custom metrics, `<metric>` for external ones.
        public var metric: String
        public var lostSeries: String
        public var lostRule: Int
        public var keptSeries: String
        public var keptRule: Int

        public init(metric: String, lostSeries: String, lostRule: Int, keptSeries: String, keptRule: Int) {
            self.metric = metric
            self.lostSeries = lostSeries
            self.lostRule = lostRule
            self.keptSeries = keptSeries
            self.keptRule = keptRule
        }

        public var description: String {
            "\(metric): series \(lostSeries) (rule \(lostRule)) replaced by \(keptSeries) (rule \(keptRule))"
        }
    }
}
