import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509
#if canImport(Glibc)
import Glibc
#endif

/// The serving certificate chain and key, from files or generated at start.
public struct ServingCertificate: Sendable {
    public let chain: [NIOSSLCertificate]
    public let privateKey: NIOSSLPrivateKey
    /// Where the certificate came from, for the start-up log (a path, never key material).
    public let source: String

    /// Loads a PEM certificate chain and its PEM private key.
    public static func load(certificateFile: String, privateKeyFile: String) throws -> ServingCertificate {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(certificateFile)
            guard !chain.isEmpty else { throw ServingCertificateError("\(certificateFile) holds no PEM certificate") }
            let key = try NIOSSLPrivateKey(file: privateKeyFile, format: .pem)
            return ServingCertificate(chain: chain, privateKey: key, source: certificateFile)
        } catch let error as ServingCertificateError {
            throw error
        } catch {
            throw ServingCertificateError("cannot load the serving certificate \(certificateFile) / \(privateKeyFile): \(error)")
        }
    }

    /// A PEM certificate chain and its PEM private key, from bytes already read (a `MountedFile`).
    ///
    /// - Parameter source: The path the bytes came from, for messages and the start-up log.
    public static func load(certificatePEM: [UInt8], privateKeyPEM: [UInt8], source: String) throws -> ServingCertificate {
        do {
            let chain = try NIOSSLCertificate.fromPEMBytes(certificatePEM)
            guard !chain.isEmpty else { throw ServingCertificateError("\(source) holds no PEM certificate") }
            let key = try NIOSSLPrivateKey(bytes: privateKeyPEM, format: .pem)
            return ServingCertificate(chain: chain, privateKey: key, source: source)
        } catch let error as ServingCertificateError {
            throw error
        } catch {
            throw ServingCertificateError("cannot load the serving certificate \(source): \(error)")
        }
    }

    /// The certificate in `directory` (`apiserver.crt`, `apiserver.key`), made there first if missing.
    ///
    /// A fresh CA signs the serving certificate; `ca.crt` holds that CA so clients (and an APIService's
    /// `caBundle`) can verify it. As with kube-apiserver's `--cert-dir`, an existing pair is reused.
    ///
    /// - Parameters:
    ///   - directory: The `--cert-dir`.
    ///   - hostnames: DNS names and IP addresses the certificate must be valid for.
    ///   - now: The current time (injected for tests).
    public static func selfSigned(in directory: String, hostnames: [String], now: Date = Date()) throws -> ServingCertificate {
        let certificatePath = directory + "/apiserver.crt"
        let keyPath = directory + "/apiserver.key"
        if FileManager.default.fileExists(atPath: certificatePath), FileManager.default.fileExists(atPath: keyPath),
            let existing = try? load(certificateFile: certificatePath, privateKeyFile: keyPath)
        {
            return existing
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let pems = try makeChain(hostnames: hostnames, now: now)
            try write(pems.key, to: keyPath, permissions: 0o600)
            try write(pems.certificate + pems.ca, to: certificatePath, permissions: 0o644)
            try write(pems.ca, to: directory + "/ca.crt", permissions: 0o644)
        } catch {
            throw ServingCertificateError("cannot generate a self-signed certificate in \(directory): \(error)")
        }
        return try load(certificateFile: certificatePath, privateKeyFile: keyPath)
    }

    /// The DNS names a certificate for `service` in `namespace` needs, as the aggregator dials it.
    public static func serviceHostnames(service: String, namespace: String) -> [String] {
        ["localhost", "127.0.0.1", "::1", service, "\(service).\(namespace)", "\(service).\(namespace).svc",
         "\(service).\(namespace).svc.cluster.local"]
    }

    private static func makeChain(hostnames: [String], now: Date) throws -> (certificate: String, key: String, ca: String) {
        let caKey = P256.Signing.PrivateKey()
        let caName = try DistinguishedName { CommonName("custom-metrics-adapter-ca@\(Int(now.timeIntervalSince1970))") }
        let ca = try Certificate(
            version: .v3,
            serialNumber: .init(),
            publicKey: .init(caKey.publicKey),
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(365 * 86_400),
            issuer: caName,
            subject: caName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try .init {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(digitalSignature: true, keyCertSign: true))
            },
            issuerPrivateKey: .init(caKey)
        )
        let key = P256.Signing.PrivateKey()
        let names: [GeneralName] = hostnames.map { host in
            if let bytes = ipBytes(host) { .ipAddress(ASN1OctetString(contentBytes: bytes[...])) } else { .dnsName(host) }
        }
        let leaf = try Certificate(
            version: .v3,
            serialNumber: .init(),
            publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(365 * 86_400),
            issuer: caName,
            subject: try DistinguishedName { CommonName(hostnames.first { ipBytes($0) == nil } ?? "localhost") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try .init {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true, keyEncipherment: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
            },
            issuerPrivateKey: .init(caKey)
        )
        return (
            try leaf.serializeAsPEM().pemString + "\n",
            key.pemRepresentation + "\n",
            try ca.serializeAsPEM().pemString + "\n"
        )
    }

    /// The 4 or 16 address bytes of an IPv4 or IPv6 literal.
    static func ipBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }

    private static func write(_ text: String, to path: String, permissions: Int) throws {
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: permissions]) else {
            throw ServingCertificateError("cannot write \(temporary)")
        }
        guard rename(temporary, path) == 0 else {
            throw ServingCertificateError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}

/// A serving certificate that cannot be loaded or made.
public struct ServingCertificateError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
