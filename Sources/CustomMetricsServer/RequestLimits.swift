import CustomMetricsAPI
import NIOCore
import NIOPosix
import Synchronization

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
/// answer is prompt. The deadline is a timer on an event loop, cancelled (and freed) as soon as the
/// operation ends: a `Task.sleep` racing the operation stays allocated until its full duration even when
/// cancelled, which under a flood of cached answers (8,000 a second) held 60 MiB of sleeping timers for
/// the 10 s default.
func withRequestTimeout<T: Sendable>(
    _ timeout: Duration,
    on eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.any(),
    _ operation: @escaping @Sendable () async throws(MetricsError) -> T
) async throws(MetricsError) -> T {
    let work = Task { () -> Result<T, MetricsError> in
        do throws(MetricsError) {
            return .success(try await operation())
        } catch {
            return .failure(error)
        }
    }
    let expired = ExpiryFlag()
    let timer = eventLoop.scheduleTask(in: TimeAmount(timeout)) {
        expired.set()
        work.cancel()
    }
    let outcome = await withTaskCancellationHandler {
        await work.value
    } onCancel: {
        work.cancel()
    }
    timer.cancel()
    if case .failure = outcome, expired.isSet {
        throw MetricsError(.serviceUnavailable, "the request did not complete within \(timeout.flagText); retry later")
    }
    return try outcome.get()
}

/// Whether a request's deadline has passed.
private final class ExpiryFlag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}
