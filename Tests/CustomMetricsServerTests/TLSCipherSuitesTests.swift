@testable import CustomMetricsServer
import NIOSSL
import Testing

@Suite("TLS 1.2 cipher suites: forward secrecy and AEAD by default, kube-apiserver's names")
struct TLSCipherSuitesTests {
    @Test func theDefaultIsECDHEWithAEADOnly() {
        let names = TLSCipherSuites.byName.filter { TLSCipherSuites.secureDefault.contains($0.value) }.keys
        #expect(names.count == 8)  // six suites, two ChaCha20 ones under both of Go's names
        for name in names {
            #expect(name.hasPrefix("TLS_ECDHE_"))
            #expect(name.contains("_GCM_") || name.contains("CHACHA20_POLY1305"))
        }
        #expect(TLSCipherSuites.secureDefault.count == 6)
    }

    @Test(arguments: [
        (["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"], [NIOTLSCipher.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256]),
        (["TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"], [.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256]),
        (["TLS_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_128_GCM_SHA256"], [.TLS_RSA_WITH_AES_128_GCM_SHA256]),
    ] as [([String], [NIOTLSCipher])])
    func kubeApiserverNamesParse(names: [String], suites: [NIOTLSCipher]) throws {
        #expect(try TLSCipherSuites.parse(names) == suites)
    }

    @Test(arguments: [
        (["TLS_RSA_WITH_RC4_128_SHA"], #"--tls-cipher-suites: unknown or unsupported cipher suite "TLS_RSA_WITH_RC4_128_SHA""#),
        (["TLS_AES_128_GCM_SHA256"], "--tls-cipher-suites names no TLS 1.2 cipher suite"),
    ])
    func unknownOrEmptyListsAreRefused(names: [String], message: String) {
        #expect { try TLSCipherSuites.parse(names) } throws: { "\($0)".hasPrefix(message) }
    }
}
