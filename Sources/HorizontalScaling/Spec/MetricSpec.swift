/// One entry of `spec.metrics` (`MetricSpec`, autoscaling/v2).
///
/// The decision models the two sources a custom-metrics adapter serves: `Pods` (one value per pod,
/// averaged) and `Object` (one value describing an object). The other types decode, so a manifest
/// that uses them is rejected by validation with a clear message instead of a decoding error.
public struct MetricSpec: Decodable, Sendable, Equatable {
    public var type: MetricSourceType
    public var pods: PodsMetricSource?
    public var object: ObjectMetricSource?

    public init(type: MetricSourceType, pods: PodsMetricSource? = nil, object: ObjectMetricSource? = nil) {
        self.type = type
        self.pods = pods
        self.object = object
    }

    /// A `Pods` metric with an `AverageValue` target, the shape the Triton HPA uses.
    public static func pods(_ name: String, averageValue: MilliQuantity) -> MetricSpec {
        MetricSpec(
            type: .pods,
            pods: PodsMetricSource(
                metric: MetricIdentifier(name: name),
                target: MetricTarget(type: .averageValue, averageValue: averageValue)))
    }

    /// An `Object` metric with a `Value` or `AverageValue` target.
    public static func object(
        _ name: String, describedObject: CrossVersionObjectReference, target: MetricTarget
    ) -> MetricSpec {
        MetricSpec(
            type: .object,
            object: ObjectMetricSource(
                describedObject: describedObject, metric: MetricIdentifier(name: name), target: target))
    }

    /// The metric's name as the controller prints it in events (`pods metric <name>`).
    public var displayName: String {
        switch type {
        case .pods: "pods metric \(pods?.metric.name ?? "?")"
        case .object: "\(object?.describedObject.kind ?? "object") metric \(object?.metric.name ?? "?")"
        default: "\(type.rawValue) metric"
        }
    }
}

/// `MetricSourceType`.
public enum MetricSourceType: String, Decodable, Sendable, Equatable {
    case pods = "Pods"
    case object = "Object"
    case resource = "Resource"
    case containerResource = "ContainerResource"
    case external = "External"
}

/// `PodsMetricSource`: a metric averaged over the scale target's pods.
public struct PodsMetricSource: Decodable, Sendable, Equatable {
    public var metric: MetricIdentifier
    public var target: MetricTarget

    public init(metric: MetricIdentifier, target: MetricTarget) {
        self.metric = metric
        self.target = target
    }
}

/// `ObjectMetricSource`: a metric describing one object (an Ingress, a Service, the Namespace).
public struct ObjectMetricSource: Decodable, Sendable, Equatable {
    public var describedObject: CrossVersionObjectReference
    public var metric: MetricIdentifier
    public var target: MetricTarget

    public init(describedObject: CrossVersionObjectReference, metric: MetricIdentifier, target: MetricTarget) {
        self.describedObject = describedObject
        self.metric = metric
        self.target = target
    }
}

/// `MetricIdentifier`: the metric's name and its optional `selector` (the adapter's
/// `metricLabelSelector`).
public struct MetricIdentifier: Decodable, Sendable, Equatable {
    public var name: String
    public var selector: LabelSelector?

    public init(name: String, selector: LabelSelector? = nil) {
        self.name = name
        self.selector = selector
    }
}

/// `MetricTarget`: which of `value`, `averageValue` or `averageUtilization` the controller uses
/// is chosen by `type`.
public struct MetricTarget: Decodable, Sendable, Equatable {
    public var type: MetricTargetType
    public var value: MilliQuantity?
    public var averageValue: MilliQuantity?
    public var averageUtilization: Int32?

    public init(
        type: MetricTargetType, value: MilliQuantity? = nil, averageValue: MilliQuantity? = nil,
        averageUtilization: Int32? = nil
    ) {
        self.type = type
        self.value = value
        self.averageValue = averageValue
        self.averageUtilization = averageUtilization
    }
}

/// `MetricTargetType`.
public enum MetricTargetType: String, Decodable, Sendable, Equatable {
    case utilization = "Utilization"
    case value = "Value"
    case averageValue = "AverageValue"
}
