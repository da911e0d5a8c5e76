import CustomMetricsAPI
@testable import CustomMetricsServer
import HTTPTypes
import NIOSSL
import Testing

/// kube-apiserver's request-header rules, checked on `RequestHeaderAuthenticator` with certificates made
/// in memory.
@Suite("Front proxy: last CN, intermediates, empty groups, verified-only memory")
struct FrontProxyTests {
    static let root = try! TestIssuer.root("front-proxy-ca")
    static let user: HTTPFields = [HTTPField.Name("X-Remote-User")!: "system:serviceaccount:kube-system:horizontal-pod-autoscaler"]

    static func authenticator(allowedNames: [String] = ["front-proxy-client"], root: TestIssuer = root) throws -> RequestHeaderAuthenticator {
        let authenticator = RequestHeaderAuthenticator()
        try authenticator.update(RequestHeaderConfiguration(clientCAPEM: root.pem, allowedNames: allowedNames))
        return authenticator
    }

    // Go's pkix.Name keeps the last CN attribute as CommonName; kube-apiserver checks only that one.
    @Test(arguments: [
        (["front-proxy-client"], true),
        (["front-proxy-client", "evil"], false),
        (["evil", "front-proxy-client"], true),
        (["not-allowed-client"], false),
        ([], false),
    ] as [([String], Bool)])
    func allowedNamesAreMatchedAgainstTheLastCommonName(commonNames: [String], trusted: Bool) async throws {
        let leaf = try Self.root.leaf(commonNames: commonNames)
        let user = try await Self.authenticator().authenticate(leaf: leaf, headers: Self.user)
        #expect((user != nil) == trusted)
    }

    @Test(.timeLimit(.minutes(1)))
    func emptyGroupValuesAreDropped() async throws {
        let leaf = try Self.root.leaf(commonNames: ["front-proxy-client"])
        let group = HTTPField.Name("X-Remote-Group")!
        var headers = Self.user
        headers.append(HTTPField(name: group, value: ""))
        headers.append(HTTPField(name: group, value: "system:serviceaccounts"))
        headers.append(HTTPField(name: group, value: ""))
        let user = try #require(try await Self.authenticator().authenticate(leaf: leaf, headers: headers))
        #expect(user.groups == ["system:serviceaccounts"])
    }

    @Test(.timeLimit(.minutes(1)))
    func aLeafFromAnIntermediateIsTrustedOnceItsChainWasPresented() async throws {
        let intermediate = try Self.root.intermediate("front-proxy-intermediate")
        let leaf = try intermediate.leaf(commonNames: ["front-proxy-client"])
        let authenticator = try Self.authenticator()
        #expect(await authenticator.authenticate(leaf: leaf, headers: Self.user) == nil)
        await authenticator.admit(presentedChain: [leaf, try intermediate.certificate.nio])
        #expect(await authenticator.authenticate(leaf: leaf, headers: Self.user)?.username == "system:serviceaccount:kube-system:horizontal-pod-autoscaler")
        #expect(authenticator.verifiedCount == 1)
    }

    @Test(.timeLimit(.minutes(1)))
    func onlyVerifiedCertificatesAreRemembered() async throws {
        let authenticator = try Self.authenticator()
        let rogue = try TestIssuer.root("front-proxy-ca")
        for index in 0..<50 {
            let stranger = try rogue.leaf(commonNames: ["front-proxy-client", "stranger-\(index)"])
            await authenticator.admit(presentedChain: [stranger])
            #expect(await authenticator.authenticate(leaf: stranger, headers: Self.user) == nil)
        }
        #expect(authenticator.verifiedCount == 0)
        let good = try Self.root.leaf(commonNames: ["front-proxy-client"])
        #expect(await authenticator.authenticate(leaf: good, headers: Self.user) != nil)
        #expect(authenticator.verifiedCount == 1)
    }

    @Test(.timeLimit(.minutes(1)))
    func aNewCAIsCheckedAgainEvenForARememberedCertificate() async throws {
        let leaf = try Self.root.leaf(commonNames: ["front-proxy-client"])
        let authenticator = try Self.authenticator()
        #expect(await authenticator.authenticate(leaf: leaf, headers: Self.user) != nil)
        try authenticator.update(RequestHeaderConfiguration(clientCAPEM: try TestIssuer.root("other-ca").pem, allowedNames: ["front-proxy-client"]))
        #expect(await authenticator.authenticate(leaf: leaf, headers: Self.user) == nil)
    }
}
