/// Bounds on what connections may cost before and while they send requests, so that strangers who can
/// reach the port (anything that reaches the Service, before any authentication) cannot hold memory.
///
/// Each bound answers one way of holding memory without doing work: a TCP connection that never starts
/// TLS (`handshakeTimeout`), many connections (`maximumConnections`), and requests (HTTP/2 streams or
/// HTTP/1.1 requests) opened but never finished (`maximumPendingRequests`, `requestReceiveTimeout`).
/// After the handshake, `RequestLimits.idleTimeout` closes a connection with nothing in flight.
public struct ConnectionLimits: Sendable {
    /// How long a connection may take from accept to a completed TLS handshake (`--tls-handshake-timeout`).
    public var handshakeTimeout: Duration
    /// Connections open at once; beyond, the oldest still in its TLS handshake is closed, else the new one (`--max-connections`).
    public var maximumConnections: Int
    /// Requests open but not yet fully received, across all connections; beyond, the oldest is closed
    /// (its stream, or its HTTP/1.1 connection) (`--max-pending-requests`).
    public var maximumPendingRequests: Int
    /// How long a request may take to arrive completely (headers through end of body); the stream or
    /// connection is then closed (`--request-receive-timeout`).
    public var requestReceiveTimeout: Duration

    public init(
        handshakeTimeout: Duration = .seconds(5),
        maximumConnections: Int = 256,
        maximumPendingRequests: Int = 256,
        requestReceiveTimeout: Duration = .seconds(10)
    ) {
        self.handshakeTimeout = handshakeTimeout
        self.maximumConnections = maximumConnections
        self.maximumPendingRequests = maximumPendingRequests
        self.requestReceiveTimeout = requestReceiveTimeout
    }
}
