/// A Kubernetes `Status` object: how every error leaves the server.
public struct Status: Sendable, Hashable, Encodable {
    public let kind = "Status"
    public let apiVersion = "v1"
    public let metadata: [String: String] = [:]
    public let status = "Failure"
    public let message: String
    public let reason: String
    public let code: Int

    public init(message: String, reason: String, code: Int) {
        self.message = message
        self.reason = reason
        self.code = code
    }

    /// The Status for a provider or request error.
    public init(_ error: MetricsError) {
        self.init(message: error.message, reason: error.code.reason, code: error.code.httpStatus)
    }

    private enum CodingKeys: String, CodingKey {
        case kind, apiVersion, metadata, status, message, reason, code
    }
}
