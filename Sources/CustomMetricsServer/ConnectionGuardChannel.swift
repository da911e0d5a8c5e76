import HummingbirdCore
import Logging
import NIOCore
import NIOSSL
import NIOTLS

/// A server child channel that bounds connections before they authenticate: at most
/// `ConnectionLimits.maximumConnections` open (the oldest one still in its TLS handshake is closed to
/// admit a new one), and each closed when its handshake has not completed within
/// `ConnectionLimits.handshakeTimeout` of accept. Otherwise exactly `Base`.
///
/// Without it, a TCP connection that sends nothing (or half a ClientHello) is kept forever: the idle
/// timeouts of HTTP/1.1 and HTTP/2 only start once the protocol is negotiated.
struct ConnectionGuardChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    let base: Base
    let connections: AdmissionTable
    let handshakeTimeout: Duration

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        guard connections.admit(channel) else {
            channel.close(promise: nil)
            return channel.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
        }
        let table = connections
        channel.closeFuture.whenComplete { _ in table.remove(channel) }
        return base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let operations = channel.pipeline.syncOperations
            let tls = try operations.handler(type: NIOSSLServerHandler.self)
            let deadline = HandshakeDeadlineHandler(timeout: TimeAmount(handshakeTimeout), connections: table)
            try operations.addHandler(deadline, position: .after(tls))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

/// Sits right after the TLS handler: closes the connection when the deadline passes first; once the
/// handshake completes, settles the connection in the table and removes itself.
final class HandshakeDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let timeout: TimeAmount
    private let connections: AdmissionTable
    private var deadline: Scheduled<Void>?

    init(timeout: TimeAmount, connections: AdmissionTable) {
        self.timeout = timeout
        self.connections = connections
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: timeout) {
            channel.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        context.fireUserInboundEventTriggered(event)
        if case .handshakeCompleted? = event as? TLSUserEvent {
            deadline?.cancel()
            deadline = nil
            connections.settle(context.channel)
            context.pipeline.syncOperations.removeHandler(self, promise: nil)
        }
    }
}
