/// apimachinery's name rules (`k8s.io/apimachinery/pkg/util/validation`), written again from its regular
/// expressions over bytes, so the module's `LabelSyntax` has something independent to agree with.
enum KubernetesNames {
    /// `IsDNS1123Label`: at most 63 bytes of `[a-z0-9]([-a-z0-9]*[a-z0-9])?`.
    static func isDNS1123Label(_ text: some StringProtocol) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.count <= 63 && matchesLabel(bytes[...])
    }

    /// `IsDNS1123Subdomain`: at most 253 bytes of dot-separated `[a-z0-9]([-a-z0-9]*[a-z0-9])?`.
    ///
    /// The 63-byte limit applies to the whole of a DNS-1123 label, not to each part of a subdomain.
    static func isDNS1123Subdomain(_ text: some StringProtocol) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count <= 253 else { return false }
        return bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).allSatisfy(matchesLabel)
    }

    /// `IsQualifiedName`: `[prefix/]name`, prefix a DNS-1123 subdomain, name at most 63 bytes of
    /// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`.
    static func isQualifiedName(_ text: some StringProtocol) -> Bool {
        let parts = Array(text.utf8).split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        switch parts.count {
        case 1: return matchesNamePart(parts[0])
        case 2: return !parts[0].isEmpty && isDNS1123Subdomain(String(decoding: parts[0], as: UTF8.self))
            && matchesNamePart(parts[1])
        default: return false
        }
    }

    /// `IsValidLabelValue`: empty, or a name part as in `isQualifiedName`.
    static func isLabelValue(_ text: some StringProtocol) -> Bool {
        text.isEmpty || matchesNamePart(Array(text.utf8)[...])
    }

    private static func matchesNamePart(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard bytes.count <= 63, let first = bytes.first, let last = bytes.last,
            isAlphanumeric(first), isAlphanumeric(last)
        else { return false }
        return bytes.allSatisfy {
            isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
        }
    }

    private static func matchesLabel(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let first = bytes.first, let last = bytes.last, isLowerAlphanumeric(first), isLowerAlphanumeric(last)
        else { return false }
        return bytes.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isLowerAlphanumeric(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }
}
