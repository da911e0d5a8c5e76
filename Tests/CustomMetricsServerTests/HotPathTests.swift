import CustomMetricsAPI
@testable import CustomMetricsServer
import NIOCore
import Testing

/// The shortcuts of the request path give the answers the long way gives.
@Suite("Hot path: kept request targets, bearer tokens read on bytes")
struct HotPathTests {
    @Test(arguments: [
        ("Bearer abc.def", "abc.def"), ("bearer abc", "abc"), ("BEARER  abc\t", "abc"), ("bEaReR x", "x"),
    ])
    func bearerTokens(header: String, token: String) {
        #expect(AuthMiddleware.bearerToken(header) == token)
    }

    @Test(arguments: ["Bearer ", "Bearer    ", "Basic abc", "Bearerabc", "Bearer", "", "Bear abc"])
    func notBearerTokens(header: String) {
        #expect(AuthMiddleware.bearerToken(header) == nil)
    }

    @Test func keptTargetsAreWhatParsingGives() {
        let targets = RequestTargets()
        let cases = [
            ("/apis/custom.metrics.k8s.io/v1beta2/namespaces/a/pods/%2A/m", "labelSelector=app%3Dtriton"),
            ("/apis/custom.metrics.k8s.io/v1beta2/namespaces/a/pods/%2A/m", "labelSelector=app%3Dother"),
            ("/apis/custom.metrics.k8s.io/v1beta2/namespaces/A/pods/x/m", ""),
            ("/readyz", ""),
        ]
        for _ in 0..<2 {
            for (path, query) in cases {
                #expect(targets.target(path: path, query: query, maximumLength: 8192) == RequestTarget(path: path, query: query, maximumLength: 8192))
            }
        }
        #expect(targets.count == cases.count)
    }

    @Test func strangersCannotGrowTheKeptTargets() {
        let targets = RequestTargets()
        for index in 0..<(RequestTargets.capacity * 3) {
            _ = targets.target(path: "/x/\(index)", query: "", maximumLength: 8192)
        }
        #expect(targets.count <= RequestTargets.capacity)
        let long = "/" + String(repeating: "a", count: RequestTargets.maximumKeyBytes)
        let before = targets.count
        #expect(targets.target(path: long, query: "", maximumLength: 8192) == RequestTarget(path: long, query: "", maximumLength: 8192))
        #expect(targets.count == before)
    }

    /// A kept answer is sent from the buffer made the first time; an equal answer in other storage gets its
    /// own buffer with the same bytes; the memo stays within its bounds.
    @Test func keptAnswersAreSentFromOneBuffer() {
        let buffers = KeptBuffers()
        let answer = Array(#"{"items":[]}"#.utf8)
        func address(_ buffer: ByteBuffer) -> UnsafeRawPointer? { buffer.withUnsafeReadableBytes { $0.baseAddress } }
        let first = buffers.buffer(for: answer)
        let copyOfAnswer = answer  // the same storage
        #expect(address(buffers.buffer(for: copyOfAnswer)) == address(first))
        #expect(buffers.count == 1)
        var other = answer
        other.append(UInt8(ascii: " "))
        other.removeLast()  // equal bytes, new storage
        let second = buffers.buffer(for: other)
        #expect(second == first && address(second) != address(first))
        #expect(buffers.count == 2)
        let large = [UInt8](repeating: UInt8(ascii: "x"), count: KeptBuffers.maximumAnswerBytes + 1)
        #expect(buffers.buffer(for: large).readableBytes == large.count)
        #expect(buffers.count == 2)
        var kept: [[UInt8]] = []
        for index in 0..<(KeptBuffers.maximumAnswers * 2) {
            let answer = [UInt8](repeating: UInt8(index), count: KeptBuffers.maximumAnswerBytes / 2)
            kept.append(answer)
            #expect(buffers.buffer(for: answer) == ByteBuffer(bytes: answer))
            #expect(buffers.count <= KeptBuffers.maximumAnswers)
            #expect(buffers.answerBytes <= KeptBuffers.maximumTotalBytes)
        }
    }
}
