/// The bytes libFuzzer hands a target, and a deterministic stream of choices drawn from them.
struct FuzzInput {
    let bytes: UnsafeBufferPointer<UInt8>

    init(_ data: UnsafePointer<UInt8>, _ size: Int) {
        self.bytes = UnsafeBufferPointer(start: data, count: size)
    }

    /// The input as text, invalid UTF-8 replaced by U+FFFD, as an HTTP server would hand it over.
    var text: String { String(decoding: bytes, as: UTF8.self) }

    /// A SplitMix64 generator seeded from the input (FNV-1a), so a reproducer replays the same choices.
    func generator() -> SplitMix64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return SplitMix64(seed: hash)
    }
}
