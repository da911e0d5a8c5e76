/// Fuzzes `LabelSelector(parsing:)`, directly and as the `labelSelector` of a request.
///
/// Invariants, on any input:
/// - parsing never traps, and every error message is bounded and free of raw control characters;
/// - a parsed selector holds only what apimachinery would accept: qualified-name keys, label values,
///   the right number of values per operator, sorted and unique, integer bounds for `>` and `<`;
/// - its canonical description parses back to an equal selector and prints the same again;
/// - `matches` agrees with apimachinery's `Requirement.Matches`, written again here, on label sets drawn
///   from the selector's own keys and values;
/// - through `MetricsRequest` the same text gives the same selector, or a 400 `MetricsError`;
/// - `LabelSyntax` agrees with apimachinery's rules on the whole input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = FuzzInput(data, size)
    let text = input.text
    SelectorChecks.labelSyntaxAgrees(text)

    let selector: LabelSelector
    do {
        selector = try LabelSelector(parsing: text)
    } catch {
        Invariant.requireClientMessage(error.message, "LabelSelector.ParseError for \(Invariant.excerpt(text))")
        SelectorChecks.throughRequest(text, expected: nil)
        return 0
    }
    SelectorChecks.wellFormed(selector, text: text)

    let canonical = selector.description
    do {
        let reparsed = try LabelSelector(parsing: canonical)
        Invariant.require(
            reparsed == selector,
            "canonical \(Invariant.excerpt(canonical)) of \(Invariant.excerpt(text)) parses to a different selector "
                + Invariant.excerpt(reparsed.description)
        )
        Invariant.require(reparsed.description == canonical, "canonical form \(Invariant.excerpt(canonical)) is not stable")
    } catch {
        Invariant.require(
            false,
            "canonical \(Invariant.excerpt(canonical)) of \(Invariant.excerpt(text)) does not parse: \(error.message)"
        )
    }

    var generator = input.generator()
    SelectorChecks.matchingAgrees(selector, using: &generator)
    SelectorChecks.throughRequest(text, expected: selector)
    return 0
}

enum SelectorChecks {
    static func labelSyntaxAgrees(_ text: String) {
        let cases: [(String, Bool, Bool)] = [
            ("key", LabelSyntax.problem(withKey: text) == nil, KubernetesNames.isQualifiedName(text)),
            ("value", LabelSyntax.problem(withValue: text) == nil, KubernetesNames.isLabelValue(text)),
            ("namespace", LabelSyntax.problem(withNamespace: text) == nil, KubernetesNames.isDNS1123Label(text)),
            ("subdomain", LabelSyntax.problem(withSubdomain: text) == nil, KubernetesNames.isDNS1123Subdomain(text)),
        ]
        for (what, module, apimachinery) in cases {
            Invariant.require(
                module == apimachinery,
                "LabelSyntax \(module ? "accepts" : "rejects") \(Invariant.excerpt(text)) as a \(what), "
                    + "apimachinery \(apimachinery ? "accepts" : "rejects") it"
            )
        }
    }

    static func wellFormed(_ selector: LabelSelector, text: String) {
        for requirement in selector.requirements {
            let described = "requirement \(Invariant.excerpt(requirement.description)) of \(Invariant.excerpt(text))"
            Invariant.require(KubernetesNames.isQualifiedName(requirement.key), "\(described): invalid key")
            Invariant.require(requirement.values.allSatisfy(KubernetesNames.isLabelValue), "\(described): invalid value")
            Invariant.require(
                zip(requirement.values, requirement.values.dropFirst()).allSatisfy { $0 < $1 },
                "\(described): values not sorted and unique"
            )
            let count = requirement.values.count
            switch requirement.operator {
            case .equals, .notEquals:
                Invariant.require(count == 1, "\(described): \(count) values")
            case .greaterThan, .lessThan:
                Invariant.require(count == 1 && Int64(requirement.values[0]) != nil, "\(described): bound not an integer")
            case .in, .notIn:
                Invariant.require(count >= 1, "\(described): empty set")
            case .exists, .doesNotExist:
                Invariant.require(count == 0, "\(described): \(count) values")
            }
        }
    }

    /// Label sets built from the selector's keys: each key absent, set to one of its values, to a value
    /// outside them, or next to an integer bound.
    static func matchingAgrees(_ selector: LabelSelector, using generator: inout SplitMix64) {
        let keys = Array(Set(selector.requirements.map(\.key))).sorted()
        var candidates: [String: [String?]] = [:]
        for requirement in selector.requirements {
            var values: [String?] = [nil, "fuzz-other", "", "12", "-3"] + requirement.values.map(Optional.some)
            if let bound = requirement.values.first.flatMap({ Int64($0) }) {
                values += [bound.subtractingReportingOverflow(1), bound.addingReportingOverflow(1)]
                    .filter { !$0.overflow }.map { String($0.partialValue) }
            }
            candidates[requirement.key, default: []] += values
        }
        for _ in 0..<8 {
            var labels: [String: String] = [:]
            for key in keys {
                if let value = candidates[key]!.randomElement(using: &generator)! { labels[key] = value }
            }
            for requirement in selector.requirements {
                Invariant.require(
                    requirement.matches(labels) == apimachineryMatches(requirement, labels),
                    "\(Invariant.excerpt(requirement.description)).matches(\(labels)) is \(requirement.matches(labels))"
                )
            }
            let expected = selector.requirements.allSatisfy { apimachineryMatches($0, labels) }
            Invariant.require(
                selector.matches(labels) == expected,
                "\(Invariant.excerpt(selector.description)).matches(\(labels)) is \(!expected)"
            )
        }
    }

    /// `Requirement.Matches` from apimachinery's `labels/selector.go`.
    static func apimachineryMatches(_ requirement: LabelSelector.Requirement, _ labels: [String: String]) -> Bool {
        let value = labels[requirement.key]
        switch requirement.operator {
        case .equals, .in: return value.map(requirement.values.contains) ?? false
        case .notEquals, .notIn: return value.map { !requirement.values.contains($0) } ?? true
        case .exists: return value != nil
        case .doesNotExist: return value == nil
        case .greaterThan, .lessThan:
            guard let value, requirement.values.count == 1, let actual = parseInt64(value),
                let bound = parseInt64(requirement.values[0])
            else { return false }
            return requirement.operator == .greaterThan ? actual > bound : actual < bound
        }
    }

    /// Go's `strconv.ParseInt(s, 10, 64)`: optional sign, ASCII digits, no overflow.
    static func parseInt64(_ text: String) -> Int64? {
        var bytes = Array(text.utf8)[...]
        var negative = false
        if let sign = bytes.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            negative = sign == UInt8(ascii: "-")
            bytes = bytes.dropFirst()
        }
        guard !bytes.isEmpty else { return nil }
        var magnitude: UInt64 = 0
        for byte in bytes {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            magnitude = sum
        }
        if negative { return magnitude <= UInt64(Int64.max) + 1 ? Int64(truncatingIfNeeded: 0 &- magnitude) : nil }
        return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
    }

    /// The text as the `labelSelector` of a pods selection: the same selector, or a 400 naming it.
    static func throughRequest(_ text: String, expected: LabelSelector?) {
        let path = MetricsRequest.prefix + "/v1beta2/namespaces/triton/pods/%2A/triton:queue_compute:ratio"
        do {
            let request = try MetricsRequest(path: path, query: "labelSelector=" + URLEncoding.encode(text))
            guard case .selection(.v1beta2, "pods", "triton", let selector, _) = request else {
                Invariant.require(false, "\(Invariant.excerpt(text)): routed to \(request)")
                return
            }
            Invariant.require(
                selector == expected,
                "\(Invariant.excerpt(text)): the request's selector \(Invariant.excerpt(selector.description)) "
                    + "differs from LabelSelector(parsing:) (\(expected.map { Invariant.excerpt($0.description) } ?? "an error"))"
            )
        } catch {
            Invariant.require(expected == nil, "\(Invariant.excerpt(text)) parses alone, but the request fails: \(error)")
            Invariant.require(error.code == .badRequest, "\(Invariant.excerpt(text)): \(error.code), not BadRequest")
            Invariant.requireClientMessage(error.message, "labelSelector \(Invariant.excerpt(text))")
        }
    }
}
