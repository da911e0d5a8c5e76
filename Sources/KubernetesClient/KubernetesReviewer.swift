import CustomMetricsAPI
import Foundation

/// TokenReview and SubjectAccessReview against the Kubernetes API (delegated authentication and
/// authorization, as every aggregated API server does), and the request-header configuration from the
/// `kube-system/extension-apiserver-authentication` ConfigMap.
public struct KubernetesReviewer: TokenReviewing, AccessReviewing, RequestHeaderSource {
    let client: KubernetesAPIClient

    public init(client: KubernetesAPIClient) {
        self.client = client
    }

    public func review(token: String) async throws -> UserInfo? {
        let body = try JSONSerialization.data(withJSONObject: [
            "apiVersion": "authentication.k8s.io/v1", "kind": "TokenReview", "spec": ["token": token],
        ])
        let (status, data) = try await client.post("/apis/authentication.k8s.io/v1/tokenreviews", body: body)
        guard status == 200 || status == 201 else {
            throw ReviewError("TokenReview answered HTTP \(status): \(PodCache.statusMessage(data))")
        }
        let review = try JSONDecoder().decode(TokenReviewResponse.self, from: data)
        guard review.status.authenticated == true, let user = review.status.user, let name = user.username else { return nil }
        return UserInfo(username: name, uid: user.uid ?? "", groups: user.groups ?? [], extra: user.extra ?? [:])
    }

    public func review(user: UserInfo, attributes: AuthorizationAttributes) async throws -> (allowed: Bool, reason: String) {
        var spec: [String: Any] = ["user": user.username, "uid": user.uid, "groups": user.groups, "extra": user.extra]
        switch attributes {
        case .resource(let verb, let group, let version, let resource, let subresource, let namespace, let name):
            var resourceAttributes: [String: Any] = [
                "verb": verb, "group": group, "version": version, "resource": resource, "subresource": subresource,
            ]
            if let namespace { resourceAttributes["namespace"] = namespace }
            if let name { resourceAttributes["name"] = name }
            spec["resourceAttributes"] = resourceAttributes
        case .nonResource(let verb, let path):
            spec["nonResourceAttributes"] = ["verb": verb, "path": path]
        }
        let body = try JSONSerialization.data(withJSONObject: [
            "apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": spec,
        ])
        let (status, data) = try await client.post("/apis/authorization.k8s.io/v1/subjectaccessreviews", body: body)
        guard status == 200 || status == 201 else {
            throw ReviewError("SubjectAccessReview answered HTTP \(status): \(PodCache.statusMessage(data))")
        }
        let review = try JSONDecoder().decode(AccessReviewResponse.self, from: data)
        return (review.status.allowed && review.status.denied != true, review.status.reason ?? "")
    }

    public func load() async throws -> RequestHeaderConfiguration {
        let (status, data) = try await client.get("/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication")
        guard status == 200 else {
            throw ReviewError("reading kube-system/extension-apiserver-authentication: HTTP \(status): \(PodCache.statusMessage(data))")
        }
        let configMap = try JSONDecoder().decode(ConfigMapResponse.self, from: data)
        let values = configMap.data ?? [:]
        guard let ca = values["requestheader-client-ca-file"], !ca.isEmpty else {
            throw ReviewError("kube-system/extension-apiserver-authentication has no requestheader-client-ca-file")
        }
        func list(_ key: String, _ fallback: [String]) -> [String] {
            guard let text = values[key], let parsed = try? JSONDecoder().decode([String].self, from: Data(text.utf8)) else { return fallback }
            return parsed
        }
        return RequestHeaderConfiguration(
            clientCAPEM: ca,
            allowedNames: list("requestheader-allowed-names", []),
            usernameHeaders: list("requestheader-username-headers", ["X-Remote-User"]),
            groupHeaders: list("requestheader-group-headers", ["X-Remote-Group"]),
            extraHeaderPrefixes: list("requestheader-extra-headers-prefix", ["X-Remote-Extra-"])
        )
    }
}

struct ReviewError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

private struct TokenReviewResponse: Decodable {
    struct Status: Decodable {
        struct User: Decodable {
            var username: String?
            var uid: String?
            var groups: [String]?
            var extra: [String: [String]]?
        }
        var authenticated: Bool?
        var user: User?
    }
    var status: Status
}

private struct AccessReviewResponse: Decodable {
    struct Status: Decodable {
        var allowed: Bool
        var denied: Bool?
        var reason: String?
    }
    var status: Status
}

private struct ConfigMapResponse: Decodable {
    var data: [String: String]?
}
