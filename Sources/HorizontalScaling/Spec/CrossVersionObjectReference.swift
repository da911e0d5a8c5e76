/// `CrossVersionObjectReference`: the scale target or an Object metric's described object.
public struct CrossVersionObjectReference: Decodable, Sendable, Equatable {
    public var apiVersion: String?
    public var kind: String
    public var name: String

    public init(apiVersion: String? = nil, kind: String, name: String) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
    }
}
