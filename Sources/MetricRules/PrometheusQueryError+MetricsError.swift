import CustomMetricsAPI

extension PrometheusQueryError {
    /// The error a client sees: a stable code and a message that names the metric but never the query,
    /// URL or upstream body (those stay in `detail`, for logs).
    public func metricsError(metric: String) -> MetricsError {
        switch kind {
        case .unreachable:
            MetricsError(.serviceUnavailable, "unable to fetch metric \(metric): Prometheus is unreachable")
        case .timeout:
            MetricsError(.serviceUnavailable, "unable to fetch metric \(metric): the Prometheus query timed out")
        case .rejected:
            MetricsError(.internalError, "unable to fetch metric \(metric): Prometheus rejected the query")
        case .malformedResponse:
            MetricsError(.internalError, "unable to fetch metric \(metric): Prometheus sent an answer that could not be used")
        case .unauthorized:
            MetricsError(.internalError, "unable to fetch metric \(metric): Prometheus refused the adapter's credentials (authentication towards Prometheus failed)")
        case .overloaded:
            MetricsError(.tooManyRequests, "unable to fetch metric \(metric): too many Prometheus queries are waiting; retry later")
        }
    }
}
