import Foundation

/// A request under `/apis/external.metrics.k8s.io`, parsed from the raw path and query.
///
/// External metrics describe no Kubernetes object: one metric name per namespace, with the HPA's
/// `metric.selector` sent as `labelSelector` and matched against the series' labels.
public enum ExternalMetricsRequest: Sendable, Hashable {
    case group
    case discovery
    /// `GET .../v1beta1/namespaces/<ns>/<metric>?labelSelector=...`
    case values(namespace: String, metric: String, selector: LabelSelector)

    public static let groupName = "external.metrics.k8s.io"
    public static let version = "v1beta1"
    public static let groupVersion = "external.metrics.k8s.io/v1beta1"
    public static let prefix = "/apis/external.metrics.k8s.io"

    /// - Throws: `MetricsError` 404 outside the API, 400 for malformed names, encodings and selectors.
    public init(path: String, query: String) throws(MetricsError) {
        let segments = try MetricsRequest.decodedSegments(of: path, under: Self.prefix)
        switch segments.count {
        case 0:
            self = .group
        case 1 where segments[0] == Self.version:
            self = .discovery
        case 4 where segments[0] == Self.version && segments[1] == "namespaces":
            let namespace = try MetricsRequest.validNamespace(segments[2])
            // The selector arrives as labelSelector here (it selects series, not objects).
            let parameters = try QueryParameters(query)
            let metric = try MetricsRequest.metricQuery(segments[3], parameters)
            self = .values(namespace: namespace, metric: metric.name, selector: try parameters.labelSelector())
        default:
            throw MetricsError.pathNotFound
        }
    }
}

/// One item of an `ExternalMetricValueList`.
public struct ExternalMetricValue: Sendable, Hashable {
    public var metricName: String
    public var metricLabels: [String: String]
    public var timestamp: Date
    public var windowSeconds: Int64?
    public var value: Quantity

    public init(metricName: String, metricLabels: [String: String], timestamp: Date, windowSeconds: Int64?, value: Quantity) {
        self.metricName = metricName
        self.metricLabels = metricLabels
        self.timestamp = timestamp
        self.windowSeconds = windowSeconds
        self.value = value
    }
}

/// `external.metrics.k8s.io/v1beta1` `ExternalMetricValueList`.
public struct ExternalMetricValueList: Sendable, Encodable {
    public let items: [ExternalMetricValue]

    public init(items: [ExternalMetricValue]) {
        self.items = items
    }

    private enum CodingKeys: String, CodingKey {
        case kind, apiVersion, metadata, items
    }

    private struct Item: Encodable {
        var metricName: String
        var metricLabels: [String: String]
        var timestamp: String
        var window: Int64?
        var value: String
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("ExternalMetricValueList", forKey: .kind)
        try container.encode(ExternalMetricsRequest.groupVersion, forKey: .apiVersion)
        try container.encode([String: String](), forKey: .metadata)
        try container.encode(items.map {
            Item(metricName: $0.metricName, metricLabels: $0.metricLabels, timestamp: rfc3339Seconds($0.timestamp),
                 window: $0.windowSeconds, value: $0.value.description)
        }, forKey: .items)
    }
}

/// The discovery document of external.metrics.k8s.io/v1beta1: one namespaced resource per metric.
public struct ExternalAPIResourceList: Sendable, Encodable {
    public let kind = "APIResourceList"
    public let apiVersion = "v1"
    public let groupVersion = ExternalMetricsRequest.groupVersion
    public let resources: [APIResourceList.Resource]

    public init(metrics: [String]) {
        resources = metrics.sorted().map { .init(name: $0, namespaced: true, kind: "ExternalMetricValueList") }
    }

    private enum CodingKeys: String, CodingKey {
        case kind, apiVersion, groupVersion, resources
    }
}

/// The `APIGroup` document at `/apis/external.metrics.k8s.io`.
public struct ExternalAPIGroup: Sendable, Encodable {
    public let kind = "APIGroup"
    public let apiVersion = "v1"
    public let name = ExternalMetricsRequest.groupName
    public let versions = [APIGroup.Version(groupVersion: ExternalMetricsRequest.groupVersion, version: ExternalMetricsRequest.version)]
    public let preferredVersion = APIGroup.Version(groupVersion: ExternalMetricsRequest.groupVersion, version: ExternalMetricsRequest.version)

    public init() {}

    private enum CodingKeys: String, CodingKey {
        case kind, apiVersion, name, versions, preferredVersion
    }
}

/// Where external metric values come from.
public protocol ExternalMetricsProvider: Sendable {
    /// The external metric names served, for discovery.
    func listExternalMetrics() -> [String]
    /// The values of `metric` in `namespace` for the series `selector` picks; an unknown metric is 404.
    func externalMetrics(namespace: String, metric: String, selector: LabelSelector) async throws(MetricsError) -> [ExternalMetricValue]
}
