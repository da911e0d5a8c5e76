import Foundation
import NIOSSL
import Yams

/// Where the Kubernetes API is and how to authenticate to it: from a kubeconfig file, or from the
/// service account mounted into the pod.
public struct KubeConfig: Sendable {
    /// `https://host:port` (or `http://` for a local stand-in).
    public var server: String
    /// The CA bundle that signs the API server's certificate; system roots when nil.
    public var certificateAuthority: [NIOSSLCertificate]?
    public var insecureSkipTLSVerify: Bool
    /// A bearer token given inline.
    public var token: String?
    /// A file holding the bearer token, re-read on use (projected service-account tokens rotate).
    public var tokenFile: String?
    public var clientCertificate: [NIOSSLCertificate]?
    public var clientKey: NIOSSLPrivateKey?

    public init(
        server: String,
        certificateAuthority: [NIOSSLCertificate]? = nil,
        insecureSkipTLSVerify: Bool = false,
        token: String? = nil,
        tokenFile: String? = nil,
        clientCertificate: [NIOSSLCertificate]? = nil,
        clientKey: NIOSSLPrivateKey? = nil
    ) {
        self.server = server
        self.certificateAuthority = certificateAuthority
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.token = token
        self.tokenFile = tokenFile
        self.clientCertificate = clientCertificate
        self.clientKey = clientKey
    }

    /// The bearer token to send now, if any.
    public func currentToken() -> String? {
        if let tokenFile, let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) {
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return token
    }

    /// Reads a kubeconfig file, using its current context.
    public static func load(path: String) throws(KubeConfigError) -> KubeConfig {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw KubeConfigError("cannot read kubeconfig \(path): \(error.localizedDescription)")
        }
        return try parse(yaml: text, directory: URL(fileURLWithPath: path).deletingLastPathComponent().path, source: path)
    }

    /// Parses kubeconfig YAML; relative file paths resolve against `directory`.
    public static func parse(yaml text: String, directory: String, source: String = "kubeconfig") throws(KubeConfigError) -> KubeConfig {
        let root: [String: Any]
        do {
            guard let loaded = try Yams.load(yaml: text) as? [String: Any] else { throw KubeConfigError("\(source) is not a YAML mapping") }
            root = loaded
        } catch let error as KubeConfigError {
            throw error
        } catch {
            throw KubeConfigError("\(source) is not valid YAML: \(error)")
        }
        func named(_ list: String, _ name: String) -> [String: Any]? {
            (root[list] as? [[String: Any]])?.first { $0["name"] as? String == name }?[String(list.dropLast())] as? [String: Any]
        }
        guard let contextName = root["current-context"] as? String, !contextName.isEmpty else {
            throw KubeConfigError("\(source) has no current-context")
        }
        guard let context = named("contexts", contextName) else {
            throw KubeConfigError("\(source): context \"\(contextName)\" not found")
        }
        guard let clusterName = context["cluster"] as? String, let cluster = named("clusters", clusterName),
            let server = cluster["server"] as? String
        else {
            throw KubeConfigError("\(source): the cluster of context \"\(contextName)\" is missing or has no server")
        }
        let user = (context["user"] as? String).flatMap { named("users", $0) } ?? [:]
        let files = KubeConfigFiles(directory: directory, source: source)
        var config = KubeConfig(
            server: server,
            certificateAuthority: nil,
            insecureSkipTLSVerify: cluster["insecure-skip-tls-verify"] as? Bool ?? false,
            token: user["token"] as? String,
            tokenFile: files.path(user["tokenFile"]),
            clientCertificate: nil,
            clientKey: nil
        )
        do {
            if let ca = try files.bytes(data: cluster["certificate-authority-data"], file: cluster["certificate-authority"]) {
                config.certificateAuthority = try NIOSSLCertificate.fromPEMBytes(ca)
            }
            if let cert = try files.bytes(data: user["client-certificate-data"], file: user["client-certificate"]) {
                config.clientCertificate = try NIOSSLCertificate.fromPEMBytes(cert)
            }
            if let key = try files.bytes(data: user["client-key-data"], file: user["client-key"]) {
                config.clientKey = try NIOSSLPrivateKey(bytes: key, format: .pem)
            }
        } catch let error as KubeConfigError {
            throw error
        } catch {
            throw KubeConfigError("\(source): invalid certificate or key: \(error)")
        }
        return config
    }

    /// The service account's view of the cluster, as every pod sees it.
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        accountDirectory: String = "/var/run/secrets/kubernetes.io/serviceaccount"
    ) throws(KubeConfigError) -> KubeConfig {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], let port = environment["KUBERNETES_SERVICE_PORT"] else {
            throw KubeConfigError(
                "not running in a cluster (KUBERNETES_SERVICE_HOST/PORT unset): pass --kubeconfig, or --pods-file for a local run"
            )
        }
        let caPath = accountDirectory + "/ca.crt"
        let ca: [NIOSSLCertificate]
        do {
            ca = try NIOSSLCertificate.fromPEMFile(caPath)
        } catch {
            throw KubeConfigError("cannot read the service-account CA \(caPath): \(error)")
        }
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return KubeConfig(
            server: "https://\(hostPart):\(port)",
            certificateAuthority: ca,
            insecureSkipTLSVerify: false,
            token: nil,
            tokenFile: accountDirectory + "/token",
            clientCertificate: nil,
            clientKey: nil
        )
    }
}

/// A kubeconfig or in-cluster configuration that cannot be used.
public struct KubeConfigError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The files a kubeconfig names: relative paths resolve against the kubeconfig's directory, and
/// `*-data` fields (base64) stand in for files.
private struct KubeConfigFiles {
    let directory: String
    let source: String

    func path(_ value: Any?) -> String? {
        guard let value = value as? String else { return nil }
        return value.hasPrefix("/") ? value : directory + "/" + value
    }

    func bytes(data: Any?, file: Any?) throws(KubeConfigError) -> [UInt8]? {
        if let data = data as? String {
            guard let decoded = Data(base64Encoded: data) else { throw KubeConfigError("\(source): invalid base64 data") }
            return Array(decoded)
        }
        if let file = path(file) {
            guard let contents = FileManager.default.contents(atPath: file) else {
                throw KubeConfigError("\(source): cannot read \(file)")
            }
            return Array(contents)
        }
        return nil
    }
}
