/// The Kubernetes resources the adapter knows: for each, its API group and version, plural and singular
/// names, kind and scope. Every part that needs one of these facts reads it here: rule validation (is the
/// resource namespaced?), series discovery (which labels name a resource), and the `describedObject` of
/// every answer (`kind`, `apiVersion`).
///
/// prometheus-adapter asks the cluster's discovery (a RESTMapper) what `pod`, `job` or `deployment` is.
/// A library has no cluster to ask, so this catalog holds the built-in resources of Kubernetes 1.32; a
/// caller may add custom resources with `adding(_:)`. Lookups follow the RESTMapper: a name matches the
/// plural or the singular, lower-cased; an empty group matches any group, the earlier entry winning (the
/// core group first, as discovery orders groups, so `event` is the core `events`).
public struct ResourceCatalog: Sendable, Hashable {
    /// One resource.
    public struct Resource: Sendable, Hashable {
        /// The API group, `""` for the core group.
        public var group: String
        /// The version the catalog reports objects in (`v1`, `v2`).
        public var version: String
        public var plural: String
        public var singular: String
        /// The object kind (`Pod`, `ReplicaSet`).
        public var kind: String
        /// Whether objects live in a namespace.
        public var namespaced: Bool

        /// - Parameter kind: nil guesses it from the singular name (`widget` → `Widget`), as for a custom
        ///   resource the catalog was told about by name only.
        public init(group: String, version: String = "v1", plural: String, singular: String, kind: String? = nil, namespaced: Bool = true) {
            self.group = group
            self.version = version
            self.plural = plural
            self.singular = singular
            self.kind = kind ?? (singular.prefix(1).uppercased() + singular.dropFirst())
            self.namespaced = namespaced
        }

        /// The name custom.metrics.k8s.io uses: `pods`, `jobs.batch`.
        public var apiName: String { group.isEmpty ? plural : "\(plural).\(group)" }

        /// The `apiVersion` of an object reference: `v1`, `apps/v1`.
        public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    }

    /// The resources, in lookup priority.
    public let resources: [Resource]

    public init(resources: [Resource]) {
        self.resources = resources
    }

    /// This catalog and `more` after it (so built-in names keep priority).
    public func adding(_ more: [Resource]) -> ResourceCatalog {
        ResourceCatalog(resources: resources + more)
    }

    /// The resource `resource` (plural or singular) names in `group`, where an empty group matches any.
    public func resolve(group: String, resource: String) -> Resource? {
        let name = resource.lowercased()
        let group = group.lowercased()
        return resources.first { ($0.plural == name || $0.singular == name) && (group.isEmpty || $0.group == group) }
    }

    /// The resource custom.metrics.k8s.io calls `apiName` (`pods`, `jobs.batch`): a known one, or a guess
    /// for a resource the catalog does not know (namespaced, version v1, kind from the name).
    public func resource(apiName: String) -> Resource {
        let parts = apiName.split(separator: ".", maxSplits: 1).map(String.init)
        let plural = parts.first ?? apiName
        let group = parts.count > 1 ? parts[1] : ""
        if let known = resources.first(where: { $0.plural == plural && $0.group == group }) { return known }
        return Self.guessed(group: group, resource: plural)
    }

    /// A resource the catalog does not know, named in an `overrides` entry (a custom resource, most
    /// likely): kept in its group, pluralized as Kubernetes guesses a resource from a kind.
    public static func guessed(group: String, resource: String) -> Resource {
        let name = resource.lowercased()
        let plural: String
        if name.hasSuffix("s") {
            plural = name
        } else if name.hasSuffix("y"), let before = name.dropLast().last, !"aeiou".contains(before) {
            plural = name.dropLast() + "ies"
        } else if name.hasSuffix("ch") || name.hasSuffix("sh") || name.hasSuffix("x") || name.hasSuffix("z") {
            plural = name + "es"
        } else {
            plural = name + "s"
        }
        let singular: String
        if name.hasSuffix("ies") {
            singular = name.dropLast(3) + "y"
        } else if name.hasSuffix("ses") || name.hasSuffix("xes") || name.hasSuffix("ches") || name.hasSuffix("shes") {
            singular = String(name.dropLast(2))
        } else if name.hasSuffix("s") {
            singular = String(name.dropLast())
        } else {
            singular = name
        }
        return Resource(group: group.lowercased(), plural: plural, singular: singular)
    }

    /// The built-in resources of Kubernetes 1.32, core group first, then groups in discovery order.
    public static let kubernetes = ResourceCatalog(resources: builtIn.map { entry in
        Resource(
            group: entry.group, version: entry.version, plural: entry.plural, singular: entry.kind.lowercased(),
            kind: entry.kind, namespaced: entry.namespaced
        )
    })

    private static let builtIn: [(group: String, version: String, plural: String, kind: String, namespaced: Bool)] = [
        ("", "v1", "pods", "Pod", true), ("", "v1", "services", "Service", true), ("", "v1", "endpoints", "Endpoints", true),
        ("", "v1", "namespaces", "Namespace", false), ("", "v1", "nodes", "Node", false),
        ("", "v1", "persistentvolumes", "PersistentVolume", false),
        ("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true), ("", "v1", "configmaps", "ConfigMap", true),
        ("", "v1", "secrets", "Secret", true), ("", "v1", "serviceaccounts", "ServiceAccount", true),
        ("", "v1", "replicationcontrollers", "ReplicationController", true), ("", "v1", "events", "Event", true),
        ("", "v1", "limitranges", "LimitRange", true), ("", "v1", "resourcequotas", "ResourceQuota", true),
        ("", "v1", "podtemplates", "PodTemplate", true), ("", "v1", "componentstatuses", "ComponentStatus", false),
        ("", "v1", "bindings", "Binding", true),
        ("apiregistration.k8s.io", "v1", "apiservices", "APIService", false),
        ("apps", "v1", "deployments", "Deployment", true), ("apps", "v1", "statefulsets", "StatefulSet", true),
        ("apps", "v1", "daemonsets", "DaemonSet", true), ("apps", "v1", "replicasets", "ReplicaSet", true),
        ("apps", "v1", "controllerrevisions", "ControllerRevision", true),
        ("events.k8s.io", "v1", "events", "Event", true),
        ("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", true),
        ("batch", "v1", "jobs", "Job", true), ("batch", "v1", "cronjobs", "CronJob", true),
        ("certificates.k8s.io", "v1", "certificatesigningrequests", "CertificateSigningRequest", false),
        ("networking.k8s.io", "v1", "ingresses", "Ingress", true), ("networking.k8s.io", "v1", "ingressclasses", "IngressClass", false),
        ("networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", true),
        ("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true),
        ("rbac.authorization.k8s.io", "v1", "roles", "Role", true),
        ("rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true),
        ("rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false),
        ("rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", false),
        ("storage.k8s.io", "v1", "storageclasses", "StorageClass", false), ("storage.k8s.io", "v1", "csidrivers", "CSIDriver", false),
        ("storage.k8s.io", "v1", "csinodes", "CSINode", false), ("storage.k8s.io", "v1", "volumeattachments", "VolumeAttachment", false),
        ("storage.k8s.io", "v1", "csistoragecapacities", "CSIStorageCapacity", true),
        ("admissionregistration.k8s.io", "v1", "mutatingwebhookconfigurations", "MutatingWebhookConfiguration", false),
        ("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations", "ValidatingWebhookConfiguration", false),
        ("admissionregistration.k8s.io", "v1", "validatingadmissionpolicies", "ValidatingAdmissionPolicy", false),
        ("admissionregistration.k8s.io", "v1", "validatingadmissionpolicybindings", "ValidatingAdmissionPolicyBinding", false),
        ("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", false),
        ("scheduling.k8s.io", "v1", "priorityclasses", "PriorityClass", false),
        ("coordination.k8s.io", "v1", "leases", "Lease", true),
        ("node.k8s.io", "v1", "runtimeclasses", "RuntimeClass", false),
        ("discovery.k8s.io", "v1", "endpointslices", "EndpointSlice", true),
        ("flowcontrol.apiserver.k8s.io", "v1", "flowschemas", "FlowSchema", false),
        ("flowcontrol.apiserver.k8s.io", "v1", "prioritylevelconfigurations", "PriorityLevelConfiguration", false),
    ]
}
