import Foundation
import Hummingbird
import Logging
import SlipwayProviders

/// The OAuth loopback redirect: `http://127.0.0.1:<random port>/callback`. A callback whose
/// `state` is not ours gets a 400 and the listener keeps waiting for the right one; the first
/// valid one delivers its code (or the provider's refusal).
public final class OAuthCallbackServer: Sendable {
    public let port: Int
    public let expectedState: String
    private let outcome: CallbackOutcome
    private let serving: GracefulServing

    public var redirectURI: String { "http://127.0.0.1:\(port)\(ServerRoutes.oauthCallback)" }

    private init(port: Int, expectedState: String, outcome: CallbackOutcome, serving: GracefulServing) {
        self.port = port
        self.expectedState = expectedState
        self.outcome = outcome
        self.serving = serving
    }

    public static func start(expectedState: String) async throws -> OAuthCallbackServer {
        let outcome = CallbackOutcome()
        let router = Router()
        router.get(RouterPath(stringLiteral: String(ServerRoutes.oauthCallback.dropFirst()))) { request, _ -> Response in
            let state = request.uri.queryParameters.get("state")
            guard state == expectedState else {
                return page(.badRequest, "This response was not for Slipway's request (state mismatch). Keep the original tab open.")
            }
            if let error = request.uri.queryParameters.get("error") {
                // Form-style "+" for spaces, as providers write it.
                let description = (request.uri.queryParameters.get("error_description") ?? error).replacingOccurrences(of: "+", with: " ")
                outcome.complete(.failure(OAuthError.denied(description)))
                return page(.badRequest, "Authorization was declined: \(description). You can close this tab.")
            }
            guard let code = request.uri.queryParameters.get("code"), !code.isEmpty else {
                return page(.badRequest, "The redirect carried no code.")
            }
            outcome.complete(.success(code))
            return page(.ok, "Slipway is authorized. You can close this tab and return to the terminal.")
        }
        let started = PortSignal()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: nil),
                              onServerRunning: { started.set($0.localAddress?.port ?? 0) },
                              logger: Logger(label: "slipway.oauth") { _ in SwiftLogNoOpLogHandler() })
        let serving = GracefulServing(app)
        let port = try await started.wait(orFailureOf: serving.task)
        return OAuthCallbackServer(port: port, expectedState: expectedState, outcome: outcome, serving: serving)
    }

    /// Waits for the valid callback; `deliver` lets another source (a pasted URL) finish first.
    public func code() async throws -> String {
        try await outcome.wait()
    }

    /// Completes the wait from elsewhere (the pasted redirect URL or code).
    public func deliver(_ result: Result<String, any Error>) {
        outcome.complete(result)
    }

    public func stop() async {
        await serving.stop()
    }

    private static func page(_ status: HTTPResponse.Status, _ text: String) -> Response {
        let html = "<!doctype html><meta charset=utf-8><title>Slipway</title><p>\(text)</p>"
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}

/// The first outcome wins; later ones are ignored.
final class CallbackOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Result<String, any Error>?
    private var waiters: [CheckedContinuation<String, any Error>] = []

    func complete(_ value: Result<String, any Error>) {
        lock.lock()
        guard result == nil else { lock.unlock(); return }
        result = value
        let waiting = waiters
        waiters = []
        lock.unlock()
        for waiter in waiting { waiter.resume(with: value) }
    }

    func wait() async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            lock.lock()
            if let result {
                lock.unlock()
                continuation.resume(with: result)
            } else {
                waiters.append(continuation)
                lock.unlock()
            }
        }
    }
}

final class PortSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var port: Int?
    private var waiter: CheckedContinuation<Int, any Error>?

    func set(_ value: Int) {
        lock.lock()
        port = value
        let waiter = self.waiter
        self.waiter = nil
        lock.unlock()
        waiter?.resume(returning: value)
    }

    func wait(orFailureOf task: Task<Void, any Error>) async throws -> Int {
        let failure = Task {
            if case let .failure(error) = await task.result { self.fail(error) }
        }
        defer { failure.cancel() }
        return try await withCheckedThrowingContinuation { continuation in
            lock.lock()
            if let port {
                lock.unlock()
                continuation.resume(returning: port)
            } else {
                waiter = continuation
                lock.unlock()
            }
        }
    }

    private func fail(_ error: any Error) {
        lock.lock()
        let waiter = self.waiter
        self.waiter = nil
        lock.unlock()
        waiter?.resume(throwing: error)
    }
}
