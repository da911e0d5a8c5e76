/// A rule's PromQL with its `<<.Name>>` placeholders located, checked once when the rule loads.
public struct QueryTemplate: Sendable, Hashable {
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
    }

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
