import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// GETs and watch streams against the Kubernetes API, with the kubeconfig's credentials.
public struct KubernetesAPIClient: Sendable {
    let config: KubeConfig
    let httpClient: HTTPClient
    private let base: String

    public init(config: KubeConfig, eventLoopGroup: any EventLoopGroup = HTTPClient.defaultEventLoopGroup) {
        self.config = config
        var tls = TLSConfiguration.makeClientConfiguration()
        if let ca = config.certificateAuthority { tls.trustRoots = .certificates(ca) }
        if let chain = config.clientCertificate, let key = config.clientKey {
            tls.certificateChain = chain.map { .certificate($0) }
            tls.privateKey = .privateKey(key)
        }
        if config.insecureSkipTLSVerify { tls.certificateVerification = .none }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.timeout = .init(connect: .seconds(5))
        configuration.redirectConfiguration = .disallow
        self.httpClient = HTTPClient(eventLoopGroup: eventLoopGroup, configuration: configuration)
        var base = config.server
        while base.hasSuffix("/") { base.removeLast() }
        self.base = base
    }

    public func shutdown() async throws {
        try await httpClient.shutdown()
    }

    func request(_ pathAndQuery: String, method: HTTPMethod = .GET, body: Data? = nil) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: base + pathAndQuery)
        request.method = method
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "custom-metrics-adapter")
        if let token = config.currentToken() {
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        return request
    }

    /// A GET whose whole body is read, within `timeout`.
    public func get(_ pathAndQuery: String, timeout: TimeAmount = .seconds(30), maxBytes: Int = 256 << 20) async throws -> (status: UInt, body: Data) {
        let response = try await httpClient.execute(request(pathAndQuery), timeout: timeout)
        let body = try await response.body.collect(upTo: maxBytes)
        return (response.status.code, Data(body.readableBytesView))
    }

    /// A POST of a JSON body whose whole answer is read, within `timeout`.
    func post(_ path: String, body: Data, timeout: TimeAmount = .seconds(10)) async throws -> (status: UInt, body: Data) {
        let response = try await httpClient.execute(request(path, method: .POST, body: body), timeout: timeout)
        let collected = try await response.body.collect(upTo: 16 << 20)
        return (response.status.code, Data(collected.readableBytesView))
    }

    /// Opens a streaming GET (a watch); the caller reads `body` line by line.
    func stream(_ pathAndQuery: String, headTimeout: TimeAmount = .seconds(30)) async throws -> HTTPClientResponse {
        try await httpClient.execute(request(pathAndQuery), timeout: headTimeout)
    }
}
