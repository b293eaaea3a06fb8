import Foundation
import Synchronization
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// App Platform's log host, on a port of its own: `GET /live?token=…` upgrades to a WebSocket
/// that sends each line as a text message `{"data": "<line>\n"}` as the deployment writes it and
/// closes normally when that log is over (as doctl reads it); `GET /archive/NAME.log?token=…`
/// answers the whole log as text. Built on NIO's own WebSocket codec, so the client is tested
/// against an implementation that is not its own. A request carrying a credential is refused
/// (400) and counted: these URLs carry their own token.
final class AppPlatformLogServer: @unchecked Sendable {
    let group: MultiThreadedEventLoopGroup
    let channel: any Channel
    let origin: String
    private let stopped = Mutex(false)

    private init(group: MultiThreadedEventLoopGroup, channel: any Channel, origin: String) {
        self.group = group
        self.channel = channel
        self.origin = origin
    }

    static func start(host: String, service: SandboxService) async throws -> AppPlatformLogServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: 1 << 20,
            shouldUpgrade: { channel, head in
                let token = Self.token(in: head.uri)
                guard head.uri.hasPrefix("/live"), !Self.carriesCredential(head), let token, service.appPlatformLog(token: token) != nil else {
                    if Self.carriesCredential(head) { service.countLogRequestWithCredential() }
                    return channel.eventLoop.makeSucceededFuture(nil)
                }
                return channel.eventLoop.makeSucceededFuture(HTTPHeaders())
            },
            upgradePipelineHandler: { channel, head in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(LiveLogHandler(service: service, token: Self.token(in: head.uri) ?? ""))
                }
            })
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 64)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let archive = ArchiveHandler(service: service)
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withServerUpgrade: (upgraders: [upgrader], completionHandler: { context in
                            context.pipeline.syncOperations.removeHandler(archive, promise: nil)
                        }))
                    try channel.pipeline.syncOperations.addHandler(archive)
                }
            }
        let channel = try await bootstrap.bind(host: host, port: 0).get()
        let port = channel.localAddress?.port ?? 0
        return AppPlatformLogServer(group: group, channel: channel, origin: "http://\(host.contains(":") ? "[\(host)]" : host):\(port)")
    }

    /// Once only: NIO's group shutdown asked a second time never answers.
    func stop() async {
        guard stopped.withLock({ done in defer { done = true }; return !done }) else { return }
        try? await channel.close()
        try? await group.shutdownGracefully()
    }

    static func token(in uri: String) -> String? {
        URLComponents(string: uri)?.queryItems?.first { $0.name == "token" }?.value
    }

    static func carriesCredential(_ head: HTTPRequestHead) -> Bool {
        head.headers.contains(name: "authorization") || head.headers.contains(name: "cookie")
    }
}

/// A whole log as text, for `historic_urls`.
private final class ArchiveHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let service: SandboxService
    private var head: HTTPRequestHead?

    init(service: SandboxService) { self.service = service }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(request): head = request
        case .body: break
        case .end:
            guard let request = head else { return }
            head = nil
            let (status, text) = answer(request)
            var headers = HTTPHeaders([("content-type", "text/plain; charset=utf-8"), ("content-length", String(text.utf8.count))])
            if !request.isKeepAlive { headers.add(name: "connection", value: "close") }
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: text)))), promise: nil)
            let keepAlive = request.isKeepAlive
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { [context] _ in if !keepAlive { context.close(promise: nil) } }
        }
    }

    private func answer(_ request: HTTPRequestHead) -> (HTTPResponseStatus, String) {
        if AppPlatformLogServer.carriesCredential(request) {
            service.countLogRequestWithCredential()
            return (.badRequest, "this URL carries its own token; send no credential\n")
        }
        guard request.method == .GET, request.uri.hasPrefix("/archive/"), let token = AppPlatformLogServer.token(in: request.uri),
              let log = service.appPlatformLog(token: token) else { return (.notFound, "no such log\n") }
        return (.ok, log.lines.map { $0 + "\n" }.joined())
    }
}

/// Streams one log as it grows, then closes with 1000.
private final class LiveLogHandler: ChannelInboundHandler {
    typealias InboundIn = NIOWebSocket.WebSocketFrame
    typealias OutboundOut = NIOWebSocket.WebSocketFrame
    let service: SandboxService
    let token: String
    private var sent = 0
    private var task: RepeatedTask?
    private var closing = false

    init(service: SandboxService, token: String) {
        self.service = service
        self.token = token
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let loop = context.eventLoop
        let bound = NIOLoopBound((self, context), eventLoop: loop)
        task = loop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(50)) { _ in
            let (handler, context) = bound.value
            handler.tick(context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) { task?.cancel() }

    private func tick(context: ChannelHandlerContext) {
        guard !closing else { return }
        guard let log = service.appPlatformLog(token: token) else { return close(context: context) }
        for line in log.lines.dropFirst(sent) {
            let json = "{\"data\":\"\(Self.escape(line + "\n"))\"}"
            let frame = NIOWebSocket.WebSocketFrame(fin: true, opcode: .text, data: context.channel.allocator.buffer(string: json))
            context.write(wrapOutboundOut(frame), promise: nil)
        }
        sent = max(sent, log.lines.count)
        context.flush()
        if log.finished { close(context: context) }
    }

    private func close(context: ChannelHandlerContext) {
        closing = true
        task?.cancel()
        var data = context.channel.allocator.buffer(capacity: 2)
        data.write(webSocketErrorCode: .normalClosure)
        context.writeAndFlush(wrapOutboundOut(NIOWebSocket.WebSocketFrame(fin: true, opcode: .connectionClose, data: data)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .connectionClose:
            if !closing {
                closing = true
                task?.cancel()
                var data = context.channel.allocator.buffer(capacity: 2)
                data.write(webSocketErrorCode: .normalClosure)
                context.writeAndFlush(wrapOutboundOut(NIOWebSocket.WebSocketFrame(fin: true, opcode: .connectionClose, data: data))).whenComplete { [context] _ in
                    context.close(promise: nil)
                }
            } else {
                context.close(promise: nil)
            }
        case .ping:
            context.writeAndFlush(wrapOutboundOut(NIOWebSocket.WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        default:
            break
        }
    }

    /// JSON string escaping for a log line (control characters as \u escapes, kept raw).
    static func escape(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
