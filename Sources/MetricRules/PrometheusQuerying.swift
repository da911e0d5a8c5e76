/// What the domain needs from Prometheus: one instant query, answered as a vector.
///
/// Any Prometheus-compatible API (Thanos, Mimir, VictoriaMetrics) can stand behind it.
public protocol PrometheusQuerying: Sendable {
    /// Runs `promql` as an instant query at the server's current time.
    ///
    /// - Throws: `PrometheusQueryError`; a result type other than `vector` is `.malformedResponse`.
    func instantQuery(_ promql: String) async throws(PrometheusQueryError) -> [InstantSample]
}

/// One element of an instant vector, the value kept as the text Prometheus sent (`"0.25"`, `"NaN"`).
public struct InstantSample: Sendable, Hashable {
    public var labels: [String: String]
    /// Seconds since the epoch, with Prometheus' millisecond precision.
    public var timestamp: Double
    public var value: String

    public init(labels: [String: String], timestamp: Double, value: String) {
        self.labels = labels
        self.timestamp = timestamp
        self.value = value
    }
}

/// Why a query failed. `detail` is for logs only: it may hold URLs and upstream bodies.
public struct PrometheusQueryError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// Connection refused, reset, DNS or TLS failure.
        case unreachable
        /// No complete answer within the query timeout.
        case timeout
        /// Prometheus answered with its error envelope or an HTTP error status.
        case rejected
        /// The answer could not be decoded, or was not a vector.
        case malformedResponse
        /// Not sent: too many queries were running for longer than a request may wait.
        case overloaded
        /// The store refused the adapter's credentials (HTTP 401 or 403): a token, password, client
        /// certificate or tenant to fix, not a query.
        case unauthorized
    }

    public let kind: Kind
    public let detail: String

    public init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }

    public var description: String { "\(kind.rawValue): \(detail)" }
}

/// What series discovery needs from Prometheus: the label sets of the series a selector matches.
public protocol PrometheusSeriesListing: Sendable {
    /// `GET /api/v1/series?match[]=<selector>&start=<start>`: every series' labels, `__name__` included.
    func series(matching selector: String, since start: Double) async throws(PrometheusQueryError) -> [[String: String]]
}
