import Foundation
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle
import Synchronization

/// The serving certificate in use, swapped atomically when its files change (cert-manager and kubelet
/// rotate them). Every new TLS handshake reads the current one; open connections are not disturbed.
public final class ServingCertificateStore: Sendable {
    private let current: Mutex<ServingCertificate>

    public init(_ certificate: ServingCertificate) {
        current = Mutex(certificate)
    }

    public var certificate: ServingCertificate { current.withLock { $0 } }

    public func replace(with certificate: ServingCertificate) {
        current.withLock { $0 = certificate }
    }

    /// The NIOSSL callback that hands each handshake the current certificate.
    var contextCallback: NIOSSLContextCallback {
        { [self] _, promise in
            let certificate = self.certificate
            var override = NIOSSLContextConfigurationOverride()
            override.certificateChain = certificate.chain.map { .certificate($0) }
            override.privateKey = .privateKey(certificate.privateKey)
            promise.succeed(override)
        }
    }
}

/// Re-reads `--tls-cert-file`/`--tls-private-key-file` when either changes and installs the new pair;
/// a pair that does not load is logged and the old one kept.
public struct ServingCertificateReloader: Service {
    let store: ServingCertificateStore
    let certificateFile: String
    let privateKeyFile: String
    let interval: Duration
    let logger: Logger

    public init(store: ServingCertificateStore, certificateFile: String, privateKeyFile: String, interval: Duration = .seconds(10), logger: Logger) {
        self.store = store
        self.certificateFile = certificateFile
        self.privateKeyFile = privateKeyFile
        self.interval = interval
        self.logger = logger
    }

    private func fingerprint() -> String {
        [certificateFile, privateKeyFile].map { path in
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            let size = attributes?[.size] as? Int ?? -1
            // Kubernetes Secret volumes swap a symlink: the resolved path changes too.
            let resolved = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? path
            return "\(resolved):\(modified):\(size)"
        }.joined(separator: "|")
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var seen = fingerprint()
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                let now = fingerprint()
                guard now != seen else { continue }
                do {
                    let certificate = try ServingCertificate.load(certificateFile: certificateFile, privateKeyFile: privateKeyFile)
                    store.replace(with: certificate)
                    seen = now
                    logger.info("serving certificate reloaded", metadata: ["certificate": "\(certificateFile)"])
                } catch {
                    logger.info("serving certificate changed but does not load; keeping the old one", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
