import Foundation
import Logging
import MountedFiles
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

/// Re-reads `--tls-cert-file`/`--tls-private-key-file` when either's content changes and installs the
/// new pair; a pair that does not load is logged and the old one kept (and retried next time).
///
/// Change is judged by `MountedFile`: the resolved link target and the bytes, never the attributes of
/// the configured path, which on a Secret volume is a link that never changes (kubelet swaps `..data`).
public struct ServingCertificateReloader: Service {
    let store: ServingCertificateStore
    let certificateFile: MountedFile
    let privateKeyFile: MountedFile
    let interval: Duration
    let logger: Logger

    public init(store: ServingCertificateStore, certificateFile: String, privateKeyFile: String, interval: Duration = .seconds(10), logger: Logger) {
        self.store = store
        self.certificateFile = MountedFile(certificateFile)
        self.privateKeyFile = MountedFile(privateKeyFile)
        self.interval = interval
        self.logger = logger
    }

    /// Installs the pair when its content differs from `seen`.
    ///
    /// - Returns: The content now installed: the new snapshot after a reload, `seen` when nothing changed
    ///   or the new pair does not load (so it is tried again next time).
    public func reloadIfChanged(seen: [MountedFile.Snapshot]?) -> [MountedFile.Snapshot]? {
        let now: [MountedFile.Snapshot]
        do {
            now = [try certificateFile.read(), try privateKeyFile.read()]
        } catch {
            logger.info("serving certificate files unreadable; keeping the current certificate", metadata: ["error": "\(error)"])
            return seen
        }
        guard now != seen else { return seen }
        do {
            let certificate = try ServingCertificate.load(
                certificatePEM: now[0].bytes, privateKeyPEM: now[1].bytes, source: certificateFile.path
            )
            store.replace(with: certificate)
            logger.info("serving certificate reloaded", metadata: ["certificate": "\(certificateFile)", "resolved": "\(now[0].resolvedPath)"])
            return now
        } catch {
            logger.info("serving certificate changed but does not load; keeping the old one", metadata: ["error": "\(error)"])
            return seen
        }
    }

    /// Reloads at once (the files may have rotated since the store was filled), then every `interval`.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            var seen = reloadIfChanged(seen: nil)
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                seen = reloadIfChanged(seen: seen)
            }
        }
    }
}
