import CustomMetricsAPI
import CustomMetricsServer
import Foundation
import Logging
import MountedFiles
import Testing

/// Rotation of files mounted from Secrets and ConfigMaps, with kubelet's exact link layout and swap.
@Suite("Rotation on a kubelet volume: serving certificate, front-proxy CA, any mounted file")
struct RotationTests {
    /// Two different serving certificates, as the bytes of their PEM files.
    static func twoCertificates() throws -> [[String: [UInt8]]] {
        try (0..<2).map { _ in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("certs-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: directory) }
            _ = try ServingCertificate.selfSigned(in: directory, hostnames: ["localhost"])
            return [
                "tls.crt": Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/apiserver.crt"))),
                "tls.key": Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/apiserver.key"))),
            ]
        }
    }

    static func leafDER(_ store: ServingCertificateStore) throws -> [UInt8] {
        try store.certificate.chain[0].toDERBytes()
    }

    @Test(.timeLimit(.minutes(1)))
    func theServingCertificateFollowsKubeletsLinkSwap() async throws {
        let versions = try Self.twoCertificates()
        var volume = try KubeletVolume(files: versions[0])
        defer { volume.remove() }
        let store = ServingCertificateStore(try ServingCertificate.load(certificateFile: volume.path("tls.crt"), privateKeyFile: volume.path("tls.key")))
        let original = try Self.leafDER(store)
        let reloader = ServingCertificateReloader(
            store: store, certificateFile: volume.path("tls.crt"), privateKeyFile: volume.path("tls.key"),
            interval: .milliseconds(20), logger: Logger(label: "test")
        )
        let running = Task { try await reloader.run() }
        defer { running.cancel() }
        try await Task.sleep(for: .milliseconds(100))
        #expect(try Self.leafDER(store) == original)
        try volume.update(versions[1])
        // Bounded wait for the reloader's next passes (at most 5 s).
        for _ in 0..<250 {
            if try Self.leafDER(store) != original { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(try Self.leafDER(store) != original)
        #expect(try Self.leafDER(store) == (try ServingCertificate.load(
            certificateFile: volume.path("tls.crt"), privateKeyFile: volume.path("tls.key")
        ).chain[0].toDERBytes()))
    }

    @Test(.timeLimit(.minutes(1)))
    func theFrontProxyCAFileFollowsKubeletsLinkSwap() async throws {
        var volume = try KubeletVolume(files: ["ca.crt": Array("first CA\n".utf8)])
        defer { volume.remove() }
        let source = RequestHeaderFile(caFile: volume.path("ca.crt"), template: RequestHeaderConfiguration(clientCAPEM: ""))
        #expect(try await source.load().clientCAPEM == "first CA\n")
        try volume.update(["ca.crt": Array("second CA\n".utf8)])
        #expect(try await source.load().clientCAPEM == "second CA\n")
    }

    @Test func aMountedFileChangesWithTheSwapAndOnlyThen() throws {
        var volume = try KubeletVolume(files: ["config.yaml": Array("a: 1\n".utf8)])
        defer { volume.remove() }
        let file = MountedFile(volume.path("config.yaml"))
        let first = try file.read()
        #expect(first.text == "a: 1\n")
        #expect(first.resolvedPath.hasSuffix("/..2026_12_01_10_00_00.000/config.yaml"))
        #expect(try file.read() == first)
        try volume.update(["config.yaml": Array("a: 2\n".utf8)])
        let second = try file.read()
        #expect(second != first)
        #expect(second.text == "a: 2\n")
        #expect(second.resolvedPath.hasSuffix("/..2026_12_01_10_00_01.001/config.yaml"))
    }

    @Test func aMissingFileIsAnErrorNamingThePath() {
        #expect(throws: MountedFileError.self) { try MountedFile("/nonexistent/tls.crt").read() }
        #expect((try? MountedFile("/nonexistent/tls.crt").read()) == nil)
    }
}
