/// A `metav1.LabelSelector`, kept only so a metric's `selector` decodes; the decision never
/// evaluates it (the metrics API applies it).
public struct LabelSelector: Decodable, Sendable, Equatable {
    public var matchLabels: [String: String]?
    public var matchExpressions: [Requirement]?

    /// One `matchExpressions` entry.
    public struct Requirement: Decodable, Sendable, Equatable {
        public var key: String
        public var `operator`: String
        public var values: [String]?

        public init(key: String, operator: String, values: [String]? = nil) {
            self.key = key
            self.operator = `operator`
            self.values = values
        }
    }

    public init(matchLabels: [String: String]? = nil, matchExpressions: [Requirement]? = nil) {
        self.matchLabels = matchLabels
        self.matchExpressions = matchExpressions
    }
}
