/// The Kubernetes resources that labels may name, used to normalize them as prometheus-adapter does.
///
/// prometheus-adapter asks the cluster's discovery (a RESTMapper) what `pod`, `job` or `deployment` is:
/// `pods`, `jobs.batch`, `deployments.apps`. A label that names no resource attaches nothing, which is why
/// `template: "<<.Resource>>"` turns `pod`, `namespace`, `service`, `job` and `endpoint` labels into
/// resources and ignores `instance` or `container`. A pure library has no cluster to ask, so this
/// catalog holds the built-in resources of Kubernetes 1.32; the executable may add custom resources it
/// learns from discovery with `adding(_:)`.
///
/// Lookups follow the RESTMapper: a name matches the plural or the singular, lower-cased; an empty group
/// matches any group, the earlier entry winning (the core group first, as discovery orders groups, so
/// `event` is the core `events`).
public struct ResourceCatalog: Sendable, Hashable {
    /// One resource: its API group (`""` for the core group), plural and singular names.
    public struct Resource: Sendable, Hashable {
        public var group: String
        public var plural: String
        public var singular: String

        public init(group: String, plural: String, singular: String) {
            self.group = group
            self.plural = plural
            self.singular = singular
        }

        /// The name custom.metrics.k8s.io uses: `pods`, `jobs.batch`.
        public var apiName: String { group.isEmpty ? plural : "\(plural).\(group)" }
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
    func resolve(group: String, resource: String) -> Resource? {
        let name = resource.lowercased()
        let group = group.lowercased()
        return resources.first { ($0.plural == name || $0.singular == name) && (group.isEmpty || $0.group == group) }
    }

    /// The built-in resources of Kubernetes 1.32, core group first, then groups in discovery order.
    public static let kubernetes = ResourceCatalog(resources: [
        ("", "pods", "pod"), ("", "services", "service"), ("", "endpoints", "endpoints"),
        ("", "namespaces", "namespace"), ("", "nodes", "node"), ("", "persistentvolumes", "persistentvolume"),
        ("", "persistentvolumeclaims", "persistentvolumeclaim"), ("", "configmaps", "configmap"),
        ("", "secrets", "secret"), ("", "serviceaccounts", "serviceaccount"),
        ("", "replicationcontrollers", "replicationcontroller"), ("", "events", "event"),
        ("", "limitranges", "limitrange"), ("", "resourcequotas", "resourcequota"),
        ("", "podtemplates", "podtemplate"), ("", "componentstatuses", "componentstatus"),
        ("", "bindings", "binding"),
        ("apiregistration.k8s.io", "apiservices", "apiservice"),
        ("apps", "deployments", "deployment"), ("apps", "statefulsets", "statefulset"),
        ("apps", "daemonsets", "daemonset"), ("apps", "replicasets", "replicaset"),
        ("apps", "controllerrevisions", "controllerrevision"),
        ("events.k8s.io", "events", "event"),
        ("autoscaling", "horizontalpodautoscalers", "horizontalpodautoscaler"),
        ("batch", "jobs", "job"), ("batch", "cronjobs", "cronjob"),
        ("certificates.k8s.io", "certificatesigningrequests", "certificatesigningrequest"),
        ("networking.k8s.io", "ingresses", "ingress"), ("networking.k8s.io", "ingressclasses", "ingressclass"),
        ("networking.k8s.io", "networkpolicies", "networkpolicy"),
        ("policy", "poddisruptionbudgets", "poddisruptionbudget"),
        ("rbac.authorization.k8s.io", "roles", "role"), ("rbac.authorization.k8s.io", "rolebindings", "rolebinding"),
        ("rbac.authorization.k8s.io", "clusterroles", "clusterrole"),
        ("rbac.authorization.k8s.io", "clusterrolebindings", "clusterrolebinding"),
        ("storage.k8s.io", "storageclasses", "storageclass"), ("storage.k8s.io", "csidrivers", "csidriver"),
        ("storage.k8s.io", "csinodes", "csinode"), ("storage.k8s.io", "volumeattachments", "volumeattachment"),
        ("storage.k8s.io", "csistoragecapacities", "csistoragecapacity"),
        ("admissionregistration.k8s.io", "mutatingwebhookconfigurations", "mutatingwebhookconfiguration"),
        ("admissionregistration.k8s.io", "validatingwebhookconfigurations", "validatingwebhookconfiguration"),
        ("admissionregistration.k8s.io", "validatingadmissionpolicies", "validatingadmissionpolicy"),
        ("admissionregistration.k8s.io", "validatingadmissionpolicybindings", "validatingadmissionpolicybinding"),
        ("apiextensions.k8s.io", "customresourcedefinitions", "customresourcedefinition"),
        ("scheduling.k8s.io", "priorityclasses", "priorityclass"),
        ("coordination.k8s.io", "leases", "lease"),
        ("node.k8s.io", "runtimeclasses", "runtimeclass"),
        ("discovery.k8s.io", "endpointslices", "endpointslice"),
        ("flowcontrol.apiserver.k8s.io", "flowschemas", "flowschema"),
        ("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations", "prioritylevelconfiguration"),
    ].map { Resource(group: $0.0, plural: $0.1, singular: $0.2) })

    /// A resource the catalog does not know, named in an `overrides` entry (a custom resource, most
    /// likely): kept in its group, pluralized as Kubernetes guesses a resource from a kind.
    static func guessed(group: String, resource: String) -> Resource {
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
        let singular = name.hasSuffix("s") ? String(name.dropLast()) : name
        return Resource(group: group.lowercased(), plural: plural, singular: singular)
    }
}
