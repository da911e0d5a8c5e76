import MetricRules
import Yams

/// A YAML mapping read the way prometheus-adapter reads its file (`yaml.UnmarshalStrict`): a key the
/// format does not have, or a key written twice, is an error rather than silently ignored.
///
/// Every error is prefixed with the path of the field (`rules[2].name.matches`).
struct StrictMapping {
    /// Where this mapping is (`rules[0].resources`); empty at the top level.
    let path: String
    private let values: [String: Node]

    /// Reads `node` as a mapping whose keys are all in `allowed`. A missing or null node is an empty mapping.
    init(_ node: Node?, path: String, allowed: [String]) throws(RuleError) {
        self.path = path
        guard let node, node.null == nil else {
            self.values = [:]
            return
        }
        guard let mapping = node.mapping else {
            throw RuleError("\(Self.prefix(path))must be a mapping")
        }
        var values: [String: Node] = [:]
        for (keyNode, value) in mapping {
            guard let key = keyNode.scalar?.string else {
                throw RuleError("\(Self.prefix(path))keys must be strings")
            }
            guard allowed.contains(key) else {
                throw RuleError("\(Self.field(path, key)): unknown field (expected one of \(allowed.joined(separator: ", ")))")
            }
            guard values[key] == nil else {
                throw RuleError("\(Self.field(path, key)): written twice")
            }
            values[key] = value
        }
        self.values = values
    }

    /// The node under `key`, nil when absent or null.
    func node(_ key: String) -> Node? {
        guard let node = values[key], node.null == nil else { return nil }
        return node
    }

    /// The path of the field `key` of this mapping.
    func path(_ key: String) -> String { Self.field(path, key) }

    /// A scalar as text (Go's YAML decoder puts any scalar into a string field); nil when absent or null.
    func string(_ key: String) throws(RuleError) -> String? {
        guard let node = node(key) else { return nil }
        guard let scalar = node.scalar else { throw RuleError("\(path(key)): must be a string") }
        return scalar.string
    }

    /// A boolean; nil when absent or null.
    func bool(_ key: String) throws(RuleError) -> Bool? {
        guard let node = node(key) else { return nil }
        guard let value = node.bool else { throw RuleError("\(path(key)): must be true or false") }
        return value
    }

    /// A sequence; empty when absent or null.
    func sequence(_ key: String) throws(RuleError) -> [Node] {
        guard let node = node(key) else { return [] }
        guard let sequence = node.sequence else { throw RuleError("\(path(key)): must be a list") }
        return Array(sequence)
    }

    /// The key/value pairs of a mapping whose keys are free (`overrides`), in document order.
    func pairs(_ key: String) throws(RuleError) -> [(key: String, value: Node)] {
        guard let node = node(key) else { return [] }
        guard let mapping = node.mapping else { throw RuleError("\(path(key)): must be a mapping") }
        var seen: Set<String> = []
        var result: [(key: String, value: Node)] = []
        for (keyNode, value) in mapping {
            guard let name = keyNode.scalar?.string else { throw RuleError("\(path(key)): keys must be strings") }
            guard seen.insert(name).inserted else { throw RuleError("\(path(key)).\(name): written twice") }
            result.append((name, value))
        }
        return result
    }

    private static func field(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    private static func prefix(_ path: String) -> String {
        path.isEmpty ? "the configuration " : "\(path): "
    }
}
