import Foundation

/// A directory laid out exactly as kubelet mounts a Secret or ConfigMap volume, updated as kubelet
/// updates it.
///
/// `name -> ..data/name`, `..data -> ..<timestamp>`; an update writes a new `..<timestamp>` folder, points
/// a new link `..data_tmp` at it and renames that over `..data` (one atomic swap), then removes the old
/// folder. The configured path (`name`) is never touched.
struct KubeletVolume {
    let directory: String
    private(set) var generation = 0

    /// Creates the volume holding `files` (name to bytes).
    init(files: [String: [UInt8]]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("volume-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let first = try writeVersion(files)
        try FileManager.default.createSymbolicLink(atPath: directory + "/..data", withDestinationPath: first)
        for name in files.keys {
            try FileManager.default.createSymbolicLink(atPath: directory + "/" + name, withDestinationPath: "..data/" + name)
        }
    }

    /// The path a program is configured with (`/etc/tls/tls.crt`).
    func path(_ name: String) -> String { directory + "/" + name }

    /// Replaces every file's content as kubelet does.
    mutating func update(_ files: [String: [UInt8]]) throws {
        let old = try FileManager.default.destinationOfSymbolicLink(atPath: directory + "/..data")
        generation += 1
        let next = try writeVersion(files)
        try FileManager.default.createSymbolicLink(atPath: directory + "/..data_tmp", withDestinationPath: next)
        guard rename(directory + "/..data_tmp", directory + "/..data") == 0 else {
            throw CocoaError(.fileWriteUnknown)
        }
        try FileManager.default.removeItem(atPath: directory + "/" + old)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func writeVersion(_ files: [String: [UInt8]]) throws -> String {
        let name = String(format: "..2026_12_01_10_00_%02d.%03d", generation % 60, generation)
        try FileManager.default.createDirectory(atPath: directory + "/" + name, withIntermediateDirectories: false)
        for (file, bytes) in files {
            guard FileManager.default.createFile(atPath: directory + "/" + name + "/" + file, contents: Data(bytes)) else {
                throw CocoaError(.fileWriteUnknown)
            }
        }
        return name
    }
}
