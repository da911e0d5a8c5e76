import HummingbirdCore
import NIOCore

/// Added to every HTTP/2 stream and HTTP/1.1 connection after HTTP decoding: holds a place in the shared
/// table of requests being received, from the start of a request (stream creation, connection setup, or
/// a request head on a kept-alive connection) to its end, and closes the stream or connection when the
/// request has not arrived completely within the timeout.
///
/// This bounds "streams held without progress": an HTTP/2 client may open 100 streams per connection and
/// never end them, each holding a stream channel and its buffers. When the table is full, the oldest
/// unfinished request is closed to admit the new one, so a stalling client cannot keep a prompt one out.
final class PendingRequestGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP1Channel.Value.InboundElement
    typealias InboundOut = HTTP1Channel.Value.InboundElement

    private let pending: AdmissionTable
    private let timeout: TimeAmount
    private var channel: (any Channel)?
    private var deadline: Scheduled<Void>?

    init(pending: AdmissionTable, timeout: Duration) {
        self.pending = pending
        self.timeout = TimeAmount(timeout)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        begin(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        end()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            if channel == nil { begin(context: context) }
        case .end:
            end()
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    private func begin(context: ChannelHandlerContext) {
        let channel = context.channel
        guard pending.admit(channel) else {
            context.close(promise: nil)
            return
        }
        self.channel = channel
        deadline = context.eventLoop.scheduleTask(in: timeout) {
            channel.close(promise: nil)
        }
    }

    private func end() {
        deadline?.cancel()
        deadline = nil
        if let channel {
            self.channel = nil
            pending.remove(channel)
        }
    }
}

extension NIOAsyncChannel {
    /// What the channel reads: for HTTP channels, the request parts (`HTTPRequestPart`), named through
    /// Hummingbird's public channel type rather than a direct dependency on NIOHTTPTypes.
    typealias InboundElement = Inbound
}
