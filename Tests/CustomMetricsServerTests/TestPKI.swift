import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// A certificate authority made in memory for tests: roots, intermediates and client leaves with any
/// subject, so front-proxy rules can be checked without files or openssl.
struct TestIssuer {
    let key: P256.Signing.PrivateKey
    let certificate: Certificate

    static let now = Date()

    /// A self-signed CA.
    static func root(_ name: String) throws -> TestIssuer {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName { CommonName(name) }
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: now.addingTimeInterval(-3600), notValidAfter: now.addingTimeInterval(86_400),
            issuer: subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try .init {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true))
            },
            issuerPrivateKey: .init(key)
        )
        return TestIssuer(key: key, certificate: certificate)
    }

    /// A CA signed by this one.
    func intermediate(_ name: String) throws -> TestIssuer {
        let key = P256.Signing.PrivateKey()
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: Self.now.addingTimeInterval(-3600), notValidAfter: Self.now.addingTimeInterval(86_400),
            issuer: self.certificate.subject, subject: try DistinguishedName { CommonName(name) },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try .init {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true))
            },
            issuerPrivateKey: .init(self.key)
        )
        return TestIssuer(key: key, certificate: certificate)
    }

    /// A client-authentication leaf whose subject holds these common names, in this order.
    func leaf(commonNames: [String]) throws -> NIOSSLCertificate {
        let key = P256.Signing.PrivateKey()
        let subject = DistinguishedName(commonNames.map { RelativeDistinguishedName(.init(type: .RDNAttributeType.commonName, utf8String: $0)) })
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(key.publicKey),
            notValidBefore: Self.now.addingTimeInterval(-3600), notValidAfter: Self.now.addingTimeInterval(86_400),
            issuer: self.certificate.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try .init {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.clientAuth])
            },
            issuerPrivateKey: .init(self.key)
        )
        return try certificate.nio
    }

    var pem: String { (try? certificate.serializeAsPEM().pemString) ?? "" }
}

extension Certificate {
    /// The same certificate as NIOSSL holds it (what a TLS connection hands the server).
    var nio: NIOSSLCertificate {
        get throws {
            var serializer = DER.Serializer()
            try serializer.serialize(self)
            return try NIOSSLCertificate(bytes: serializer.serializedBytes, format: .der)
        }
    }
}
