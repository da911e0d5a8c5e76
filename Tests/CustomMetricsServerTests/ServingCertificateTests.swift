import CustomMetricsServer
import Foundation
import Testing

@Suite("ServingCertificate: generated into --cert-dir, reused when present")
struct ServingCertificateTests {
    @Test func generatesAndReuses() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("certs-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let names = ServingCertificate.serviceHostnames(service: "custom-metrics-adapter", namespace: "custom-metrics")
        #expect(names.contains("custom-metrics-adapter.custom-metrics.svc"))
        let first = try ServingCertificate.selfSigned(in: directory, hostnames: names)
        #expect(first.chain.count == 2)
        #expect(FileManager.default.fileExists(atPath: directory + "/ca.crt"))
        let keyPermissions = try FileManager.default.attributesOfItem(atPath: directory + "/apiserver.key")[.posixPermissions] as? Int
        #expect(keyPermissions == 0o600)
        let second = try ServingCertificate.selfSigned(in: directory, hostnames: names)
        #expect(try first.chain[0].toDERBytes() == second.chain[0].toDERBytes())
    }

    @Test func missingFilesNameThePath() {
        #expect {
            try ServingCertificate.load(certificateFile: "/nonexistent/tls.crt", privateKeyFile: "/nonexistent/tls.key")
        } throws: { error in
            "\(error)".hasPrefix("cannot load the serving certificate /nonexistent/tls.crt / /nonexistent/tls.key")
        }
    }
}
