import CustomMetricsAPI
import Hummingbird
import Logging
import Metrics
import Synchronization

/// The outermost middleware: parses the request target once (an over-long one is answered 414 here,
/// before any authentication or review), turns whatever escapes a handler (the router's 404, a thrown
/// error) into a Kubernetes `Status`, and counts and times every request.
struct StatusMiddleware<Context: RequestTargetContext>: RouterMiddleware {
    let metricsFactory: any MetricsFactory
    let limits: RequestLimits
    private let instruments: RequestInstruments
    private let targets = RequestTargets()

    init(metricsFactory: any MetricsFactory, limits: RequestLimits) {
        self.metricsFactory = metricsFactory
        self.limits = limits
        self.instruments = RequestInstruments(factory: metricsFactory)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let target = targets.target(path: request.uri.path, query: request.uri.query ?? "", maximumLength: limits.maximumURILength)
        var context = context
        context.target = target
        let response: Response
        if case .tooLong(let error) = target {
            response = JSONResponse.status(error)
        } else {
            response = await Self.respond(request, context: context, next: next)
        }
        let elapsed = ContinuousClock.now - started
        let (counter, timer) = instruments.for(kind: target.kind, code: response.status.code)
        counter.increment()
        timer.recordNanoseconds(Int64(elapsed.components.seconds) * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        return response
    }

    private static func respond(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            return JSONResponse.status(MetricsError.pathNotFound)
        } catch let error as HTTPError where error.status == .methodNotAllowed {
            return JSONResponse.status(MetricsError(.methodNotAllowed, "the server does not allow this method on the requested resource"))
        } catch let error as HTTPError where (400..<500).contains(error.status.code) {
            return JSONResponse.status(MetricsError(.badRequest, error.body ?? "bad request"))
        } catch {
            context.logger.info("request failed", metadata: ["error": "\(error)"])
            return JSONResponse.status(MetricsError(.internalError, "internal error"))
        }
    }
}

/// The request counter and timer of each (kind, code), made once: looking them up in the registry by
/// label and dimensions on every request cost more than counting. Kinds and codes are small fixed sets.
final class RequestInstruments: Sendable {
    private struct Key: Hashable {
        var kind: String
        var code: Int
    }

    private let factory: any MetricsFactory
    private let made = Mutex<[Key: (Counter, Metrics.Timer)]>([:])

    init(factory: any MetricsFactory) {
        self.factory = factory
    }

    func `for`(kind: String, code: Int) -> (Counter, Metrics.Timer) {
        let key = Key(kind: kind, code: code)
        if let found = made.withLock({ $0[key] }) { return found }
        let pair = (
            Counter(label: "custom_metrics_adapter_requests_total", dimensions: [("kind", kind), ("code", String(code))], factory: factory),
            Metrics.Timer(label: "custom_metrics_adapter_request_duration_seconds", dimensions: [("kind", kind)], factory: factory)
        )
        made.withLock { $0[key] = pair }
        return pair
    }
}

/// The last request targets parsed, by their raw text: an HPA asks the same path every sync, and parsing
/// one (percent-decoding, names and selectors checked character by character) cost more than the rest of
/// a cached answer. Parsing is a pure function of the text, so a kept result is the result.
///
/// Bounded for strangers (this runs before authentication): at most `capacity` targets of at most
/// `maximumKeyBytes` each are kept; when full, the whole table is dropped, so churn costs parsing again
/// and nothing more.
final class RequestTargets: Sendable {
    static let capacity = 256
    static let maximumKeyBytes = 1024

    private let kept = Mutex<[String: RequestTarget]>([:])

    func target(path: String, query: String, maximumLength: Int) -> RequestTarget {
        let key = query.isEmpty ? path : path + "?" + query
        guard key.utf8.count <= Self.maximumKeyBytes else {
            return RequestTarget(path: path, query: query, maximumLength: maximumLength)
        }
        if let found = kept.withLock({ $0[key] }) { return found }
        let target = RequestTarget(path: path, query: query, maximumLength: maximumLength)
        kept.withLock { table in
            if table.count >= Self.capacity { table.removeAll(keepingCapacity: true) }
            table[key] = target
        }
        return target
    }

    var count: Int { kept.withLock { $0.count } }
}
