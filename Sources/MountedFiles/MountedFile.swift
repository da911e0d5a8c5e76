#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file mounted from a Kubernetes Secret or ConfigMap, read through its links and compared by content.
///
/// kubelet mounts `name -> ..data/name` and `..data -> ..<timestamp>/`, and updates a volume by writing a
/// new timestamped folder and renaming a new `..data` link over the old one. The attributes of `name`
/// itself (a link whose size and target never change) therefore never change on update: only the
/// resolved target and the bytes do. A `Snapshot` holds both, and two snapshots are equal exactly when
/// both are, so `snapshot != previous` is the whole change test:
///
/// ```swift
/// let file = MountedFile("/var/run/serving-cert/tls.crt")
/// let now = try file.read()
/// if now != last { try install(now.bytes); last = now }
/// ```
///
/// No clock, no polling and no dependency: callers poll at their own interval and decide what a change
/// means (only record `last` once the new content was accepted, so a half-written update is retried).
public struct MountedFile: Sendable, Hashable, CustomStringConvertible {
    /// The path as configured (`--tls-cert-file`), possibly a link.
    public let path: String

    /// The largest file read, so a wrong path (a device, a huge log) cannot take the process' memory.
    public static let maximumSize = 4 << 20

    public init(_ path: String) {
        self.path = path
    }

    public var description: String { path }

    /// The content of a mounted file at one moment, and the file it was read from after every link.
    public struct Snapshot: Sendable, Hashable {
        /// The bytes read.
        public let bytes: [UInt8]
        /// The path after resolving every link (`/etc/tls/..2026_12_01_10_00_00.123/tls.crt`).
        public let resolvedPath: String

        public init(bytes: [UInt8], resolvedPath: String) {
            self.bytes = bytes
            self.resolvedPath = resolvedPath
        }

        /// The bytes as UTF-8 text (PEM, YAML, a token).
        public var text: String { String(decoding: bytes, as: UTF8.self) }
    }

    /// Resolves the links and reads the file they lead to.
    ///
    /// The resolved path is read (not `path` again), so a link swap between the two steps cannot pair
    /// one version's path with another's bytes.
    ///
    /// - Throws: `MountedFileError` naming `path` when it does not resolve, cannot be read or is larger
    ///   than `maximumSize`.
    public func read() throws(MountedFileError) -> Snapshot {
        guard let resolvedPointer = realpath(path, nil) else {
            throw MountedFileError(path: path, reason: Self.systemError())
        }
        let resolved = String(cString: resolvedPointer)
        free(resolvedPointer)
        guard let stream = fopen(resolved, "rb") else {
            throw MountedFileError(path: path, reason: Self.systemError())
        }
        defer { fclose(stream) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, stream) }
            if count > 0 { bytes.append(contentsOf: chunk[0..<count]) }
            guard bytes.count <= Self.maximumSize else {
                throw MountedFileError(path: path, reason: "larger than \(Self.maximumSize) bytes")
            }
            if count < chunk.count { break }
        }
        if ferror(stream) != 0 {
            throw MountedFileError(path: path, reason: Self.systemError())
        }
        return Snapshot(bytes: bytes, resolvedPath: resolved)
    }

    private static func systemError() -> String {
        String(cString: strerror(errno))
    }
}

/// A mounted file that cannot be read, with the configured path and the system's reason.
public struct MountedFileError: Error, Sendable, Hashable, CustomStringConvertible {
    public let path: String
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "cannot read \(path): \(reason)" }
}
