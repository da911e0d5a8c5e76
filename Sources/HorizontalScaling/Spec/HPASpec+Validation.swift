/// A spec the API server would refuse, or one this model cannot decide for, naming the field.
public struct HPASpecError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The offending field's path, as `kubectl` prints it (`spec.metrics[0].pods.target.averageValue`).
    public let field: String
    /// What is wrong with it.
    public let message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}

extension HPASpec {
    /// Checks the rules of the API server's HPA validation that the decision depends on, and that
    /// every metric is of a type this model decides for.
    ///
    /// A spec that passes can be replayed without a division by zero or an empty policy list;
    /// one that fails would not have been admitted by a cluster either (or needs a feature this
    /// model leaves out, such as scaling to zero).
    ///
    /// - Throws: The first `HPASpecError` found.
    public func validate() throws(HPASpecError) {
        if let minReplicas, minReplicas < 1 {
            throw HPASpecError(
                field: "spec.minReplicas",
                message: "must be at least 1 (scaling to zero needs the HPAScaleToZero gate, not modelled)")
        }
        guard maxReplicas >= 1 else {
            throw HPASpecError(field: "spec.maxReplicas", message: "must be greater than 0")
        }
        guard maxReplicas >= effectiveMinReplicas else {
            throw HPASpecError(
                field: "spec.maxReplicas", message: "must be greater than or equal to `minReplicas`")
        }
        guard !metrics.isEmpty else {
            throw HPASpecError(
                field: "spec.metrics",
                message: "must list at least one Pods or Object metric (the CPU default is not modelled)")
        }
        for (index, metric) in metrics.enumerated() {
            try metric.validate(field: "spec.metrics[\(index)]")
        }
        if let behavior {
            try behavior.scaleUp?.validate(field: "spec.behavior.scaleUp")
            try behavior.scaleDown?.validate(field: "spec.behavior.scaleDown")
        }
    }
}

extension MetricSpec {
    fileprivate func validate(field: String) throws(HPASpecError) {
        switch type {
        case .pods:
            guard let pods else {
                throw HPASpecError(field: "\(field).pods", message: "must be set for type Pods")
            }
            guard pods.target.type == .averageValue else {
                throw HPASpecError(
                    field: "\(field).pods.target.type", message: "must be AverageValue for a Pods metric")
            }
            try Self.requirePositive(pods.target.averageValue, field: "\(field).pods.target.averageValue")
        case .object:
            guard let object else {
                throw HPASpecError(field: "\(field).object", message: "must be set for type Object")
            }
            switch object.target.type {
            case .value:
                try Self.requirePositive(object.target.value, field: "\(field).object.target.value")
            case .averageValue:
                try Self.requirePositive(
                    object.target.averageValue, field: "\(field).object.target.averageValue")
            case .utilization:
                throw HPASpecError(
                    field: "\(field).object.target.type", message: "must be Value or AverageValue")
            }
        case .resource, .containerResource, .external:
            throw HPASpecError(
                field: "\(field).type",
                message: "\(type.rawValue) metrics are not modelled (only Pods and Object)")
        }
    }

    private static func requirePositive(_ quantity: MilliQuantity?, field: String) throws(HPASpecError) {
        guard let quantity else { throw HPASpecError(field: field, message: "must be set") }
        guard quantity.milliValue > 0 else {
            throw HPASpecError(field: field, message: "must be positive")
        }
    }
}

extension HPAScalingRules {
    fileprivate func validate(field: String) throws(HPASpecError) {
        if let window = stabilizationWindowSeconds, !(0...3600).contains(window) {
            throw HPASpecError(
                field: "\(field).stabilizationWindowSeconds", message: "must be between 0 and 3600")
        }
        if let policies {
            guard !policies.isEmpty else {
                throw HPASpecError(field: "\(field).policies", message: "must specify at least one Policy")
            }
            for (index, policy) in policies.enumerated() {
                guard policy.value > 0 else {
                    throw HPASpecError(
                        field: "\(field).policies[\(index)].value", message: "must be greater than zero")
                }
                guard (1...1800).contains(policy.periodSeconds) else {
                    throw HPASpecError(
                        field: "\(field).policies[\(index)].periodSeconds",
                        message: "must be between 1 and 1800")
                }
            }
        }
        if let tolerance, tolerance.approximateValue < 0 {
            throw HPASpecError(field: "\(field).tolerance", message: "must be greater than or equal to 0")
        }
    }
}
