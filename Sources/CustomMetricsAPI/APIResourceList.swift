/// The discovery document of one group version: which metrics are served, on which resources.
public struct APIResourceList: Sendable, Encodable {
    public struct Resource: Sendable, Hashable, Encodable {
        /// `pods/<metric>`, as custom-metrics-apiserver lists them.
        public var name: String
        public var singularName = ""
        public var namespaced: Bool
        public var kind = "MetricValueList"
        public var verbs = ["get"]
    }

    public let kind = "APIResourceList"
    public let apiVersion = "v1"
    public let groupVersion: String
    public let resources: [Resource]

    /// The list for `version`, one resource per metric, sorted by name for a stable document.
    public init(version: APIVersion, metrics: [MetricInfo]) {
        groupVersion = version.groupVersion
        resources = metrics
            .map { Resource(name: "\($0.resource)/\($0.metric)", namespaced: $0.namespaced) }
            .sorted { $0.name < $1.name }
    }

    private enum CodingKeys: String, CodingKey {
        case kind, apiVersion, groupVersion, resources
    }
}

/// The `APIGroup` document at `/apis/custom.metrics.k8s.io`.
public struct APIGroup: Sendable, Encodable {
    public struct Version: Sendable, Encodable {
        public var groupVersion: String
        public var version: String
    }

    public let kind = "APIGroup"
    public let apiVersion = "v1"
    public let name = APIVersion.group
    public let versions: [Version] = APIVersion.allCases.map { .init(groupVersion: $0.groupVersion, version: $0.rawValue) }
    public let preferredVersion = Version(groupVersion: APIVersion.v1beta2.groupVersion, version: APIVersion.v1beta2.rawValue)

    public init() {}

    private enum CodingKeys: String, CodingKey {
        case kind, apiVersion, name, versions, preferredVersion
    }
}
