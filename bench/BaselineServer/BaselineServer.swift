import ArgumentParser
import CustomMetricsServer
import Foundation
import Hummingbird
import HummingbirdHTTP2
import Logging
import NIOCore
import NIOSSL

/// Bare Hummingbird serving one file's bytes for any GET path, over the adapter's TLS: the benchmark's
/// second baseline (scripts/bench.py).
///
/// nginx shows what serving the same bytes could cost; this shows what Hummingbird, swift-nio and
/// BoringSSL cost on their own, so the rest of the gap is ours (middleware, authentication, the answer).
/// Only the framework is kept: no middleware, no connection guard, no limits beyond Hummingbird's
/// defaults. HTTP/2 through ALPN and HTTP/1.1 on one port, as the adapter serves.
@main
struct BaselineServer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-baseline",
        abstract: "Serve one file's bytes as application/json for any GET path, over TLS (HTTP/2 and HTTP/1.1)."
    )

    @Option(help: "The port to listen on (127.0.0.1); 0 picks one, printed on standard output.")
    var port: Int = 0

    @Option(help: "PEM certificate chain, as the adapter's --tls-cert-file.")
    var cert: String

    @Option(help: "PEM private key, as the adapter's --tls-private-key-file.")
    var key: String

    @Option(help: "The file whose bytes every GET answers with; read once at start.")
    var body: String

    func run() async throws {
        var logger = Logger(label: "bench-baseline")
        logger.logLevel = .warning
        guard let data = FileManager.default.contents(atPath: body) else {
            throw ValidationError("cannot read --body \(body)")
        }
        let bytes = ByteBuffer(bytes: data)
        let router = Router()
        for path: RouterPath in ["/", "**"] {
            router.get(path) { _, _ in
                Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: bytes))
            }
        }
        let certificate = try ServingCertificate.load(certificateFile: cert, privateKeyFile: key)
        let app = Application(
            router: router,
            server: try .http2Upgrade(tlsChannelConfiguration: Self.tlsChannel(certificate)),
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: nil),
            onServerRunning: { channel in
                FileHandle.standardOutput.write(Data("listening on port \(channel.localAddress?.port ?? 0)\n".utf8))
            },
            logger: logger
        )
        try await app.runService()
    }

    /// The adapter's TLS settings, reproduced: `tlsConfiguration(_:configuration:)` and
    /// `verificationCallback(_:)` in CustomMetricsServer/Application+build.swift are internal. TLS 1.2 and
    /// 1.3, the default TLS 1.2 suites, a client certificate asked for but optional (accepted as the
    /// adapter accepts one without a front proxy). HTTP2UpgradeChannel sets ALPN to h2 and http/1.1.
    /// Keep in step with that file.
    static func tlsChannel(_ certificate: ServingCertificate) -> HummingbirdHTTP2.TLSChannelConfiguration {
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: certificate.chain.map { .certificate($0) },
            privateKey: .privateKey(certificate.privateKey)
        )
        tls.minimumTLSVersion = .tlsv12
        tls.cipherSuiteValues = TLSCipherSuites.secureDefault
        tls.certificateVerification = .optionalVerification
        return HummingbirdHTTP2.TLSChannelConfiguration(
            tlsConfiguration: tls,
            customVerificationCallback: { _, promise in promise.succeed(.certificateVerified) }
        )
    }
}
