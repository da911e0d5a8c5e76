import CustomMetricsAPI
import Hummingbird
import NIOCore

/// The request context of the adapter: the connection the request came on (for the client
/// certificate), the parsed request target, and, once authenticated, the user.
public struct AdapterRequestContext: RequestTargetContext {
    public var coreContext: CoreRequestContextStorage
    /// The channel of the request: the connection for HTTP/1.1, the stream (child of the connection) for HTTP/2.
    public let channel: (any Channel)?
    /// Set by `StatusMiddleware`: the path and query, parsed once.
    public var target: RequestTarget?
    /// Set by `AuthMiddleware`.
    public var user: UserInfo?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
        self.target = nil
        self.user = nil
    }
}
