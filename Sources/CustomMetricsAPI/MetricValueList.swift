import Foundation

/// One metric value for one object, independent of the API version that will carry it.
public struct MetricValue: Sendable, Hashable {
    public var describedObject: ObjectReference
    public var metricName: String
    /// The metric label selector the value was fetched with; empty when none was given.
    public var metricSelector: LabelSelector
    /// When Prometheus computed the sample (seconds since the epoch).
    public var timestamp: Date
    /// The rule's rate window, or nil for an instantaneous metric.
    public var windowSeconds: Int64?
    public var value: Quantity

    public init(
        describedObject: ObjectReference,
        metricName: String,
        metricSelector: LabelSelector,
        timestamp: Date,
        windowSeconds: Int64?,
        value: Quantity
    ) {
        self.describedObject = describedObject
        self.metricName = metricName
        self.metricSelector = metricSelector
        self.timestamp = timestamp
        self.windowSeconds = windowSeconds
        self.value = value
    }
}

/// A `MetricValueList` as one API version spells it.
///
/// v1beta2 items carry `metric: {name, selector}` and `windowSeconds`; v1beta1 items carry `metricName`,
/// a top-level `selector` (always present, `null` when empty) and `window`.
public struct MetricValueList: Sendable, Encodable {
    public let version: APIVersion
    public let items: [MetricValue]

    public init(version: APIVersion, items: [MetricValue]) {
        self.version = version
        self.items = items
    }

    private enum CodingKeys: String, CodingKey {
        case kind, apiVersion, metadata, items
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("MetricValueList", forKey: .kind)
        try container.encode(version.groupVersion, forKey: .apiVersion)
        try container.encode([String: String](), forKey: .metadata)
        switch version {
        case .v1beta2: try container.encode(items.map(V1Beta2Item.init), forKey: .items)
        case .v1beta1: try container.encode(items.map(V1Beta1Item.init), forKey: .items)
        }
    }
}

/// RFC 3339 in UTC to the second, as `metav1.Time` marshals.
public func rfc3339Seconds(_ date: Date) -> String {
    let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
    let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
    let secondOfDay = seconds - days * 86_400
    // Civil-from-days (Howard Hinnant's algorithm), proleptic Gregorian calendar.
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let dayOfEra = z - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let mp = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * mp + 2) / 5 + 1
    let month = mp < 10 ? mp + 3 : mp - 9
    let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    func pad(_ v: Int64, _ width: Int) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
    return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):"
        + "\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))Z"
}

private struct V1Beta2Item: Encodable {
    struct Identifier: Encodable {
        var name: String
        var selector: WireLabelSelector?
    }
    var describedObject: ObjectReference
    var metric: Identifier
    var timestamp: String
    var windowSeconds: Int64?
    var value: String

    init(_ value: MetricValue) {
        describedObject = value.describedObject
        metric = .init(name: value.metricName, selector: WireLabelSelector(value.metricSelector))
        timestamp = rfc3339Seconds(value.timestamp)
        windowSeconds = value.windowSeconds
        self.value = value.value.description
    }
}

private struct V1Beta1Item: Encodable {
    var describedObject: ObjectReference
    var metricName: String
    var timestamp: String
    var window: Int64?
    var value: String
    var selector: WireLabelSelector?

    init(_ value: MetricValue) {
        describedObject = value.describedObject
        metricName = value.metricName
        timestamp = rfc3339Seconds(value.timestamp)
        window = value.windowSeconds
        self.value = value.value.description
        selector = WireLabelSelector(value.metricSelector)
    }

    private enum CodingKeys: String, CodingKey {
        case describedObject, metricName, timestamp, window, value, selector
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(describedObject, forKey: .describedObject)
        try container.encode(metricName, forKey: .metricName)
        try container.encode(timestamp, forKey: .timestamp)
        try container.encodeIfPresent(window, forKey: .window)
        try container.encode(value, forKey: .value)
        // The Go type has no omitempty on `selector`: clients see `null`.
        if let selector { try container.encode(selector, forKey: .selector) } else { try container.encodeNil(forKey: .selector) }
    }
}

/// metav1 `LabelSelector` (`matchLabels` for equalities, `matchExpressions` for the rest), as
/// `metav1.ParseToLabelSelector` builds it from the query string.
struct WireLabelSelector: Encodable {
    struct Expression: Encodable {
        var key: String
        var `operator`: String
        var values: [String]?
    }
    var matchLabels: [String: String]?
    var matchExpressions: [Expression]?

    init?(_ selector: LabelSelector) {
        if selector.isEmpty { return nil }
        var labels: [String: String] = [:]
        var expressions: [Expression] = []
        for requirement in selector.requirements {
            switch requirement.operator {
            case .equals: labels[requirement.key] = requirement.values.first ?? ""
            case .in: expressions.append(.init(key: requirement.key, operator: "In", values: requirement.values))
            case .notEquals, .notIn:
                expressions.append(.init(key: requirement.key, operator: "NotIn", values: requirement.values))
            case .exists: expressions.append(.init(key: requirement.key, operator: "Exists", values: nil))
            case .doesNotExist: expressions.append(.init(key: requirement.key, operator: "DoesNotExist", values: nil))
            case .greaterThan: expressions.append(.init(key: requirement.key, operator: "Gt", values: requirement.values))
            case .lessThan: expressions.append(.init(key: requirement.key, operator: "Lt", values: requirement.values))
            }
        }
        matchLabels = labels.isEmpty ? nil : labels
        matchExpressions = expressions.isEmpty ? nil : expressions
    }
}
