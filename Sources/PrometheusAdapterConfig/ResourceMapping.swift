import CustomMetricsAPI
import GoTemplate
import MetricRules
import Yams

/// A rule's `resources:` block: which series labels name Kubernetes objects, and which label to query
/// for a resource, as prometheus-adapter's `ResourceConverter` decides.
///
/// ```yaml
/// resources:
///   overrides:                          # label → group-resource, normalized (pod → pods)
///     kubernetes_pod_name: {resource: pod}
///     microservice: {group: apps, resource: deployment}
///   template: "kube_<<.Group>>_<<.Resource>>"   # any label of this form names <resource>.<group>
///   namespaced: false                   # externalRules only: do not add the request's namespace
/// ```
///
/// A label is checked against the overrides first, then against the template, which is turned into a
/// regular expression the way prometheus-adapter does it: the template is executed with `.Group` as
/// `(?P<group>.+?)` and `.Resource` as `(?P<resource>.+?)`, anchored, the rest of its text taken as
/// regular-expression syntax. A label the template matches counts only if the catalog knows the resource.
/// The label for a resource is the override's, or the template executed with the group (dots and dashes
/// made underscores) and the singular resource name.
struct ResourceMapping: Sendable, Hashable {
    /// Label → resource, from `overrides`.
    let overrides: [String: ResourceCatalog.Resource]
    /// `resources.template`, compiled.
    let template: GoTemplate?
    /// The regular expression a label must match to name a resource through the template.
    let templatePattern: GoRegex?
    /// `resources.namespaced` (nil when absent).
    let namespaced: Bool?
    let catalog: ResourceCatalog

    private static let fields = ["Group", "Resource"]

    init(_ node: Node?, path: String, catalog: ResourceCatalog) throws(RuleError) {
        let map = try StrictMapping(node, path: path, allowed: ["template", "overrides", "namespaced"])
        self.catalog = catalog
        self.namespaced = try map.bool("namespaced")
        var overrides: [String: ResourceCatalog.Resource] = [:]
        var labelByResource: [String: String] = [:]
        for (label, value) in try map.pairs("overrides") {
            let path = "\(map.path("overrides")).\(label)"
            guard PromQL.isLabelName(label) else {
                throw RuleError("\(path): \"\(label)\" is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)")
            }
            let entry = try StrictMapping(value, path: path, allowed: ["group", "resource"])
            guard let name = try entry.string("resource"), !name.isEmpty else {
                throw RuleError("\(path).resource: is required (a resource such as pod, namespace or service)")
            }
            let group = try entry.string("group") ?? ""
            let resource = catalog.resolve(group: group, resource: name) ?? ResourceCatalog.guessed(group: group, resource: name)
            if let other = labelByResource[resource.apiName] {
                throw RuleError("\(path): labels \"\(other)\" and \"\(label)\" both map to \(resource.apiName); keep one")
            }
            labelByResource[resource.apiName] = label
            overrides[label] = resource
        }
        self.overrides = overrides
        if let text = try map.string("template"), !text.isEmpty {
            let path = map.path("template")
            let template: GoTemplate
            let pattern: String
            do {
                template = try GoTemplate(text, rootFields: Self.fields)
                pattern = try template.render(Self.arguments(group: "(?P<group>.+?)", resource: "(?P<resource>.+?)"))
            } catch {
                throw RuleError("\(path): \(error.message)")
            }
            guard pattern.contains("(?P<resource>") else {
                throw RuleError("\(path): must include <<.Resource>>, which becomes the resource a label names")
            }
            self.template = template
            do {
                self.templatePattern = try GoRegex("^" + pattern + "$")
            } catch {
                throw RuleError("\(path): the template as a label pattern: \(error.message)")
            }
        } else {
            self.template = nil
            self.templatePattern = nil
        }
    }

    /// Whether no label can name a resource.
    var isEmpty: Bool { overrides.isEmpty && template == nil }

    /// The resources the labels of one series name, unique, in label order.
    func resources(forLabels labels: [String]) -> [ResourceCatalog.Resource] {
        var found: [ResourceCatalog.Resource] = []
        for label in labels {
            guard let resource = resource(forLabel: label), !found.contains(resource) else { continue }
            found.append(resource)
        }
        return found
    }

    func resource(forLabel label: String) -> ResourceCatalog.Resource? {
        if let resource = overrides[label] { return resource }
        guard let templatePattern, templatePattern.captureCount > 0 else { return nil }
        guard let resource = templatePattern.expand("${resource}", matching: label) else { return nil }
        let group = templatePattern.expand("${group}", matching: label) ?? ""
        return catalog.resolve(group: group, resource: resource)
    }

    /// The label that holds the names of `resource`'s objects; nil when neither an override nor the
    /// template gives one.
    func label(for resource: ResourceCatalog.Resource) -> String? {
        if let label = overrides.first(where: { $0.value == resource })?.key { return label }
        guard let template else { return nil }
        let group = resource.group.map { $0 == "." || $0 == "-" ? "_" : $0 }
        return try? template.render(Self.arguments(group: String(group), resource: resource.singular))
    }

    /// The label holding namespace names, for the namespace matcher.
    var namespaceLabel: String? {
        label(for: catalog.resolve(group: "", resource: "namespaces") ?? ResourceCatalog.guessed(group: "", resource: "namespaces"))
    }

    private static func arguments(group: String, resource: String) -> TemplateValue {
        .record(typeName: "schema.GroupResource", fields: [
            .init(name: "Group", value: .string(group)),
            .init(name: "Resource", value: .string(resource)),
        ])
    }
}
