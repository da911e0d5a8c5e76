import CustomMetricsAPI

/// Why a request got the answer it got: the rule, the PromQL, Prometheus' timing, and a verdict for every
/// object considered. What `custom-metrics-adapter explain` prints for "metric not found".
public struct Explanation: Sendable {
    /// One object the request could have reported, and what happened to it.
    public struct Verdict: Sendable, Equatable {
        public var object: String
        /// `kept` when it is in the answer.
        public var verdict: String
        public var value: String?

        public init(object: String, verdict: String, value: String? = nil) {
            self.object = object
            self.verdict = verdict
            self.value = value
        }
    }

    /// The rule that matched, or nil.
    public var rule: MetricRule?
    /// The PromQL sent, if a query was needed.
    public var promql: String?
    /// How long Prometheus took (or until the query failed).
    public var queryDuration: Duration?
    public var verdicts: [Verdict] = []
    /// The metrics served (discovery) when the request was not for values, or named no served metric.
    public var servedMetrics: [MetricInfo] = []
    /// The answer the API gives.
    public var outcome: Result<[MetricValue], MetricsError> = .success([])

    public init() {}

    init(
        rule: MetricRule?, promql: String?, queryDuration: Duration?, verdicts: [Verdict], servedMetrics: [MetricInfo],
        outcome: Result<[MetricValue], MetricsError>
    ) {
        self.rule = rule
        self.promql = promql
        self.queryDuration = queryDuration
        self.verdicts = verdicts
        self.servedMetrics = servedMetrics
        self.outcome = outcome
    }
}

extension PrometheusMetricsProvider {
    /// Runs `request` through the server's own code path and returns every decision it recorded.
    public func explain(_ request: MetricsRequest) async -> Explanation {
        let trace = ProviderTrace()
        let outcome: Result<[MetricValue], MetricsError>
        switch request {
        case .group, .discovery:
            trace.servedMetrics = listMetrics()
            outcome = .success([])
        case .object(_, let object, let metric):
            do throws(MetricsError) {
                outcome = .success([try await self.metric(for: object, metric: metric, trace: trace)])
            } catch {
                outcome = .failure(error)
            }
        case .selection(_, let resource, let namespace, let selector, let metric):
            do throws(MetricsError) {
                outcome = .success(try await metrics(resource: resource, namespace: namespace, selector: selector, metric: metric, trace: trace).values)
            } catch {
                outcome = .failure(error)
            }
        }
        return trace.explanation(outcome: outcome)
    }
}
