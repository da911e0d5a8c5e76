/// What the metrics API answered for one entry of `spec.metrics`, in the same order.
public enum MetricReading: Sendable, Equatable {
    /// The items of a `MetricValueList` for `pods/*`, in the order they arrived. Every item
    /// counts in the average, including one for a pod outside the selector; a second item for the
    /// same pod replaces the first, as in the controller's map.
    case pods([PodMetricValue])
    /// The single value of an `Object` metric, in milli-units.
    case object(milliValue: Int64)
    /// The request failed (404, 503, timeout): the controller cannot compute this metric.
    case unavailable(reason: String)
}

/// One item of a pods `MetricValueList`: `describedObject.name` and the value in milli-units.
public struct PodMetricValue: Sendable, Hashable {
    public var podName: String
    public var milliValue: Int64

    public init(podName: String, milliValue: Int64) {
        self.podName = podName
        self.milliValue = milliValue
    }
}
