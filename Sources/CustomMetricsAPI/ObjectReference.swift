/// The object a metric value describes (core/v1 `ObjectReference`, the fields the API fills).
public struct ObjectReference: Sendable, Hashable, Codable {
    public var kind: String
    public var namespace: String?
    public var name: String
    public var apiVersion: String

    public init(kind: String, namespace: String?, name: String, apiVersion: String = "v1") {
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.apiVersion = apiVersion
    }
}
