import AsyncHTTPClient
import Foundation
import Logging
import MetricRules
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization

/// Runs instant queries against `/api/v1/query` with a form-encoded POST, so that long queries never
/// meet a URL length limit (HTTP 414).
public struct PrometheusHTTPClient: PrometheusQuerying, PrometheusSeriesListing {
    private let configuration: PrometheusClientConfiguration
    private let httpClient: HTTPClient
    private let queryURL: String
    private let rangeQueryURL: String
    private let seriesURL: String
    private let budget: ResponseByteBudget

    /// Builds the client and its TLS settings.
    ///
    /// - Throws: `PrometheusClientSetupError` when the URL is not http(s) or a certificate file cannot be read.
    public init(configuration: PrometheusClientConfiguration, eventLoopGroup: any EventLoopGroup = HTTPClient.defaultEventLoopGroup) throws {
        guard let url = URL(string: configuration.url), let scheme = url.scheme, ["http", "https"].contains(scheme),
            url.host != nil
        else {
            throw PrometheusClientSetupError("--prometheus-url \"\(configuration.url)\" must be an http:// or https:// URL with a host")
        }
        var base = configuration.url
        while base.hasSuffix("/") { base.removeLast() }
        self.queryURL = base + "/api/v1/query"
        self.rangeQueryURL = base + "/api/v1/query_range"
        self.seriesURL = base + "/api/v1/series"
        self.configuration = configuration
        self.budget = ResponseByteBudget(limit: configuration.maxTotalResponseBytes)

        var tls = TLSConfiguration.makeClientConfiguration()
        do {
            if let caFile = configuration.caFile {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            }
            if let certFile = configuration.clientCertificateFile, let keyFile = configuration.clientKeyFile {
                tls.certificateChain = try NIOSSLCertificate.fromPEMFile(certFile).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
            }
        } catch {
            throw PrometheusClientSetupError("cannot load a Prometheus TLS file: \(error)")
        }
        if configuration.insecureSkipTLSVerify { tls.certificateVerification = .none }
        var clientConfiguration = HTTPClient.Configuration(tlsConfiguration: tls)
        clientConfiguration.redirectConfiguration = .disallow
        clientConfiguration.timeout = .init(connect: .seconds(2))
        // A refused connection answers the HPA at once (503); its next sync, 15 s later, is the retry.
        // Retrying inside the pool would hold every request for the whole connect timeout instead.
        clientConfiguration.connectionPool.retryConnectionEstablishment = false
        clientConfiguration.httpVersion = .automatic
        self.httpClient = HTTPClient(eventLoopGroup: eventLoopGroup, configuration: clientConfiguration)
    }

    /// Closes the connection pool.
    public func shutdown() async throws {
        try await httpClient.shutdown()
    }

    public func instantQuery(_ promql: String) async throws(PrometheusQueryError) -> [InstantSample] {
        try await answer(url: queryURL, form: "query=" + Self.formEncode(promql), decode: PrometheusResponse.decode)
    }

    /// The labels of the series `selector` matches since `start`, from `/api/v1/series` (POSTed: a
    /// selector can be long). Bounded like every query: the timeout and `maxResponseBytes`.
    public func series(matching selector: String, since start: Double) async throws(PrometheusQueryError) -> [[String: String]] {
        let form = "match[]=" + Self.formEncode(selector) + "&start=\(Self.number(start.rounded(.down)))"
        return try await answer(url: seriesURL, form: form, decode: PrometheusResponse.decodeSeries)
    }

    /// Runs `promql` over `[start, end]` every `step` seconds against `/api/v1/query_range`.
    ///
    /// Prometheus refuses more than 11,000 points per series: callers split long ranges.
    public func rangeQuery(_ promql: String, start: Double, end: Double, step: Double) async throws(PrometheusQueryError) -> [RangeSeries] {
        let form = "query=" + Self.formEncode(promql) + "&start=\(Self.number(start))&end=\(Self.number(end))&step=\(Self.number(step))"
        return try await answer(url: rangeQueryURL, form: form, decode: PrometheusResponse.decodeMatrix)
    }

    /// POSTs `form` to `url` and decodes the answer while its bytes are still reserved in the budget.
    ///
    /// AsyncHTTPClient's own deadline fires first and says why (a refused connection, say); the outer
    /// bound here only catches a body that trickles in forever.
    private func answer<T>(
        url: String,
        form: String,
        decode: (UInt, ByteBuffer) throws(PrometheusQueryError) -> T
    ) async throws(PrometheusQueryError) -> T {
        let timeout = configuration.queryTimeout + .milliseconds(500)
        let (status, body, reservation) = try await withDeadline(timeout, on: httpClient.eventLoopGroup.any()) { () throws(PrometheusQueryError) in
            try await self.post(url: url, form: form)
        }
        return try withExtendedLifetime(reservation) { () throws(PrometheusQueryError) in
            try decode(status, body)
        }
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int64(value)) : String(format: "%.3f", value)
    }

    /// POSTs the form and reads the answer, its bytes reserved in the shared budget for as long as the
    /// returned reservation is held.
    private func post(url: String, form query: String) async throws(PrometheusQueryError) -> (UInt, ByteBuffer, ResponseByteBudget.Reservation) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        for header in configuration.headers {
            request.headers.add(name: header.name, value: header.value)
        }
        do {
            if let tokenFile = configuration.bearerTokenFile {
                let token = try String(contentsOfFile: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                request.headers.replaceOrAdd(name: "Authorization", value: "Bearer \(token)")
            } else if let user = configuration.basicAuthUsername {
                let password = try configuration.basicAuthPasswordFile.map {
                    try String(contentsOfFile: $0, encoding: .utf8).trimmingCharacters(in: .newlines)
                } ?? ""
                let credentials = Data("\(user):\(password)".utf8).base64EncodedString()
                request.headers.replaceOrAdd(name: "Authorization", value: "Basic \(credentials)")
            }
        } catch {
            throw PrometheusQueryError(.unreachable, "cannot read the Prometheus credentials file: \(error.localizedDescription)")
        }
        let timeoutMilliseconds = configuration.queryTimeout.components.seconds * 1000
            + configuration.queryTimeout.components.attoseconds / 1_000_000_000_000_000
        // Prometheus parses its own duration syntax: "2000ms", not "2.000s".
        let form = query + "&timeout=\(timeoutMilliseconds)ms"
        request.body = .bytes(ByteBuffer(string: form))
        do {
            let response = try await httpClient.execute(request, timeout: .milliseconds(timeoutMilliseconds))
            let reservation = ResponseByteBudget.Reservation(budget: budget)
            let body = try await collect(response.body, into: reservation)
            return (response.status.code, body, reservation)
        } catch let error as PrometheusQueryError {
            throw error
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw PrometheusQueryError(.timeout, "\(error)")
        } catch is CancellationError {
            throw PrometheusQueryError(.timeout, "cancelled")
        } catch let error as NIOTooManyBytesError {
            throw PrometheusQueryError(.malformedResponse, "response larger than \(configuration.maxResponseBytes) bytes: \(error)")
        } catch {
            throw PrometheusQueryError(.unreachable, "\(error)")
        }
    }

    /// Reads a body, at most `maxResponseBytes`, reserving each chunk in the shared budget first.
    private func collect(_ body: HTTPClientResponse.Body, into reservation: ResponseByteBudget.Reservation) async throws -> ByteBuffer {
        var collected = ByteBuffer()
        for try await chunk in body {
            guard collected.readableBytes + chunk.readableBytes <= configuration.maxResponseBytes else {
                throw PrometheusQueryError(.malformedResponse, "response larger than \(configuration.maxResponseBytes) bytes")
            }
            guard reservation.add(chunk.readableBytes) else {
                throw PrometheusQueryError(
                    .overloaded, "Prometheus answers being read exceed \(budget.limit) bytes together; retry later"
                )
            }
            collected.writeImmutableBuffer(chunk)
        }
        return collected
    }

    /// `application/x-www-form-urlencoded`: everything but unreserved characters percent-encoded.
    static func formEncode(_ text: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count * 2)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.append(byte)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Runs `operation`, failing with `.timeout` when it has not finished after `timeout`.
///
/// The deadline is a timer on an event loop, cancelled and freed when the operation ends (a `Task.sleep`
/// racing it would stay allocated for the whole timeout even when cancelled, once per query).
func withDeadline<T: Sendable>(
    _ timeout: Duration,
    on eventLoop: any EventLoop,
    _ operation: @escaping @Sendable () async throws(PrometheusQueryError) -> T
) async throws(PrometheusQueryError) -> T {
    let work = Task { () -> Result<T, PrometheusQueryError> in
        do throws(PrometheusQueryError) { return .success(try await operation()) } catch { return .failure(error) }
    }
    let expired = DeadlineFlag()
    let timer = eventLoop.scheduleTask(in: TimeAmount(timeout)) {
        expired.set()
        work.cancel()
    }
    let result = await withTaskCancellationHandler {
        await work.value
    } onCancel: {
        work.cancel()
    }
    timer.cancel()
    if case .failure = result, expired.isSet {
        throw PrometheusQueryError(.timeout, "no answer within \(timeout)")
    }
    return try result.get()
}

/// Whether a query's deadline has passed.
private final class DeadlineFlag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}

/// A configuration problem found at start.
public struct PrometheusClientSetupError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
