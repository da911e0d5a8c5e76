import CustomMetricsAPI

/// Bounds on what one request may cost, so that odd or hostile input ends in a Status, never in a crash,
/// a hang or unbounded memory.
///
/// Selector length is bounded in `MetricsRequest` (`maximumSelectorLength`); Prometheus concurrency in the
/// provider's coalescer.
public struct RequestLimits: Sendable {
    /// The longest request target (path and query) any request may have: longer is 414, answered before
    /// authentication or any review (`RequestTarget`).
    public var maximumURILength: Int
    /// How long a metrics request may take from routing to answer: longer is 503.
    public var requestTimeout: Duration
    /// The largest single header (HTTP/1.1); larger closes the connection.
    public var maximumHeaderFieldSize: Int
    /// The largest set of headers (HTTP/1.1); larger closes the connection.
    public var maximumHeaderListSize: Int
    /// How many headers a request may carry (HTTP/1.1).
    public var maximumHeaderCount: Int
    /// How long a connection may sit idle (between requests, or sending one slowly) before it is closed.
    public var idleTimeout: Duration

    public init(
        maximumURILength: Int = 8192,
        requestTimeout: Duration = .seconds(10),
        maximumHeaderFieldSize: Int = 16 * 1024,
        maximumHeaderListSize: Int = 64 * 1024,
        maximumHeaderCount: Int = 200,
        idleTimeout: Duration = .seconds(90)
    ) {
        self.maximumURILength = maximumURILength
        self.requestTimeout = requestTimeout
        self.maximumHeaderFieldSize = maximumHeaderFieldSize
        self.maximumHeaderListSize = maximumHeaderListSize
        self.maximumHeaderCount = maximumHeaderCount
        self.idleTimeout = idleTimeout
    }
}

extension Duration {
    /// `10s`, `1500ms`: the form the flags take, for messages.
    var flagText: String {
        let (seconds, attoseconds) = components
        let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000)s" : "\(milliseconds)ms"
    }
}

/// Runs `operation`, giving up after `timeout` with a 503 the client can retry.
///
/// The operation is cancelled when the time is up; the provider's waits are cancellation-aware, so the
/// answer is prompt.
func withRequestTimeout<T: Sendable>(
    _ timeout: Duration,
    _ operation: @escaping @Sendable () async throws(MetricsError) -> T
) async throws(MetricsError) -> T {
    let outcome: Result<T, MetricsError>? = await withTaskGroup(of: Result<T, MetricsError>?.self) { group in
        group.addTask {
            do throws(MetricsError) {
                return .success(try await operation())
            } catch {
                return .failure(error)
            }
        }
        group.addTask {
            try? await Task.sleep(for: timeout)
            return nil
        }
        let first = await group.next() ?? nil
        group.cancelAll()
        return first
    }
    guard let outcome else {
        throw MetricsError(.serviceUnavailable, "the request did not complete within \(timeout.flagText); retry later")
    }
    return try outcome.get()
}
