import CustomMetricsAPI

/// A native rule's PromQL with its `<<.Name>>` placeholders located, checked once when the rule loads.
///
/// - `<<.LabelMatchers>>`: the matchers that limit the query to the request (the namespace, the object name
///   for a single non-pod object, the `metricLabelSelector`), comma-separated, escaped;
/// - `<<.GroupBy>>`: the labels that identify one object (`namespace,pod` for pods);
/// - `<<.Window>>`: the rate window (`1m`).
public struct QueryTemplate: PromQLTemplate, Hashable {
    /// The placeholders a template may use.
    public enum Placeholder: String, Sendable, CaseIterable {
        case labelMatchers = "LabelMatchers"
        case groupBy = "GroupBy"
        case window = "Window"
    }

    private enum Piece: Sendable, Hashable {
        case text(String)
        case placeholder(Placeholder)
    }

    private let pieces: [Piece]

    public let text: String

    /// The placeholders the template uses.
    public var placeholders: Set<Placeholder> {
        Set(pieces.compactMap { if case .placeholder(let p) = $0 { p } else { nil } })
    }

    /// Splits `text` into literal text and placeholders.
    ///
    /// - Throws: a message naming the unknown or unterminated placeholder.
    public init(_ text: String) throws(RuleError) {
        var pieces: [Piece] = []
        var rest = Substring(text)
        while let open = rest.range(of: "<<") {
            if open.lowerBound > rest.startIndex { pieces.append(.text(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].range(of: ">>") else {
                throw RuleError("query has a \"<<\" without a closing \">>\"")
            }
            let inner = rest[open.upperBound..<close.lowerBound].trimmingSpaces
            guard inner.hasPrefix("."), let placeholder = Placeholder(rawValue: String(inner.dropFirst())) else {
                let known = Placeholder.allCases.map { "<<.\($0.rawValue)>>" }.joined(separator: ", ")
                throw RuleError("query uses unknown placeholder <<\(inner)>> (known: \(known))")
            }
            pieces.append(.placeholder(placeholder))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { pieces.append(.text(String(rest))) }
        self.pieces = pieces
        self.text = text
    }

    public func validate(for rule: MetricRule) throws(RuleError) {
        if !placeholders.contains(.labelMatchers) {
            throw RuleError("query must use <<.LabelMatchers>>: without it a request for one namespace would read every namespace")
        }
        if !rule.isExternal, !placeholders.contains(.groupBy) {
            throw RuleError("query must use <<.GroupBy>> (for example `sum by (<<.GroupBy>>) (...)`) so that each object gets its own series")
        }
        if rule.windowSeconds == nil, placeholders.contains(.window) {
            throw RuleError("query uses <<.Window>> but the rule has no window")
        }
    }

    public func promql(for rule: MetricRule, namespace: String?, objectName: String?, metricSelector: LabelSelector) throws(MetricsError) -> String {
        var matchers: [PromQL.Matcher] = []
        if rule.namespaced, let namespace, let label = rule.namespaceLabel {
            matchers.append(.init(label, .equal, namespace))
        }
        if let objectName { matchers.append(.init(rule.nameLabel, .equal, objectName)) }
        matchers += try PromQL.matchers(for: metricSelector)
        return render(
            labelMatchers: matchers.map(\.description).joined(separator: ","),
            groupBy: rule.groupByLabels.joined(separator: ","),
            window: rule.windowSeconds.map(PrometheusDuration.format(seconds:)) ?? ""
        )
    }

    /// The built-in rule's query: Triton's queue time over compute time, per pod.
    static let tritonQueueComputeRatio: QueryTemplate = {
        do {
            return try QueryTemplate(
                "sum by (<<.GroupBy>>) (rate(nv_inference_queue_duration_us{<<.LabelMatchers>>}[<<.Window>>]))"
                    + " / clamp_min(sum by (<<.GroupBy>>) (rate(nv_inference_compute_infer_duration_us{<<.LabelMatchers>>}[<<.Window>>])), 1)"
            )
        } catch {
            fatalError("the built-in query is invalid: \(error)")
        }
    }()

    /// The query with every placeholder replaced.
    public func render(labelMatchers: String, groupBy: String, window: String) -> String {
        pieces.map { piece in
            switch piece {
            case .text(let text): text
            case .placeholder(.labelMatchers): labelMatchers
            case .placeholder(.groupBy): groupBy
            case .placeholder(.window): window
            }
        }.joined()
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var s = self
        while s.first?.isWhitespace == true { s = s.dropFirst() }
        while s.last?.isWhitespace == true { s = s.dropLast() }
        return s
    }
}
