import Foundation
import SlipwayHTTP
import SlipwayProviders

/// One delivery the sandbox owes a hook, in its personality's dialect: the headers (signature
/// included) are fixed when the push happens, so every attempt carries the same delivery id.
struct OutboundDelivery: Sendable {
    var url: String
    var headers: [(String, String)]
    var body: Data
    /// How many times the service tries before it gives up.
    var attempts: Int
    /// A header numbering the attempts, where the service sends one.
    var attemptHeader: String?

    func request(attempt: Int) -> HTTPRequest {
        var headers = HTTPHeaders(self.headers)
        if let attemptHeader { headers.add(attemptHeader, String(attempt)) }
        return HTTPRequest(method: .post, url: url, headers: headers, body: body)
    }
}

/// Sends deliveries: a POST per hook, 10 s to answer, and on a 5xx (or no answer) more attempts
/// straight away while the delivery allows them. Up to `maxParallel` are in flight at once, as a
/// provider's delivery workers are (thousands of transfers queued in one libcurl multi handle
/// made each one's removal cost more than its request); the rest wait their turn in order.
/// `drain()` waits for all of them.
public final class WebhookSender: @unchecked Sendable {
    public struct Stats: Sendable, Equatable {
        public var delivered = 0
        public var failed = 0
        public var attempts = 0
        public var retries = 0
    }

    private let makeTransport: @Sendable () -> any HTTPTransport
    private let lock = NSLock()
    private var transport: (any HTTPTransport)?
    private var stats = Stats()
    private var inFlight = 0
    private var drainWaiters: [CheckedContinuation<Void, Never>] = []
    /// Deliveries not yet taken by a worker (from `queueStart` on), and the workers running.
    private var queue: [OutboundDelivery] = []
    private var queueStart = 0
    private var workers = 0
    static let maxParallel = 32

    init(makeTransport: @escaping @Sendable () -> any HTTPTransport = WebhookSender.curl) {
        self.makeTransport = makeTransport
    }

    /// libcurl with a 10 s limit (the user agent is each delivery's own header).
    static let curl: @Sendable () -> any HTTPTransport = {
        var options = TransferOptions()
        options.connectTimeout = 10
        options.lowSpeedTime = 10
        return CurlTransport(options: options)
    }

    public var statistics: Stats { lock.withLock { stats } }

    func send(_ deliveries: [OutboundDelivery]) {
        guard !deliveries.isEmpty else { return }
        let (transport, starting) = lock.withLock {
            inFlight += deliveries.count
            queue.append(contentsOf: deliveries)
            if self.transport == nil { self.transport = makeTransport() }
            let starting = min(Self.maxParallel - workers, queue.count - queueStart)
            workers += starting
            return (self.transport!, starting)
        }
        for _ in 0..<starting {
            Task.detached { [self] in await work(over: transport) }
        }
    }

    /// One worker: deliveries in order until none is waiting.
    private func work(over transport: any HTTPTransport) async {
        while let delivery = next() {
            let ok = await Self.deliver(delivery, over: transport) { attempt in
                self.lock.withLock {
                    self.stats.attempts += 1
                    if attempt > 1 { self.stats.retries += 1 }
                }
            }
            finish(ok)
        }
    }

    /// The next waiting delivery; nil (and one worker fewer) when there is none.
    private func next() -> OutboundDelivery? {
        lock.withLock {
            guard queueStart < queue.count else {
                // All taken: let go of their bodies.
                queue.removeAll(keepingCapacity: true)
                queueStart = 0
                workers -= 1
                return nil
            }
            let delivery = queue[queueStart]
            queueStart += 1
            // Taken ones are dropped once they are most of the array.
            if queueStart >= 1024, queueStart * 2 >= queue.count {
                queue.removeFirst(queueStart)
                queueStart = 0
            }
            return delivery
        }
    }

    /// Attempts until a non-5xx answer or the attempts run out; true when it was taken.
    static func deliver(_ delivery: OutboundDelivery, over transport: any HTTPTransport, attempted: (Int) -> Void) async -> Bool {
        for attempt in 1...max(1, delivery.attempts) {
            attempted(attempt)
            if let response = try? await transport.perform(delivery.request(attempt: attempt)), response.status < 500 {
                return (200..<300).contains(response.status)
            }
        }
        return false
    }

    private func finish(_ ok: Bool) {
        let waiters = lock.withLock { () -> [CheckedContinuation<Void, Never>] in
            if ok { stats.delivered += 1 } else { stats.failed += 1 }
            inFlight -= 1
            guard inFlight == 0 else { return [] }
            defer { drainWaiters = [] }
            return drainWaiters
        }
        waiters.forEach { $0.resume() }
    }

    /// Returns once every delivery sent so far has been answered or given up.
    public func drain() async {
        await withCheckedContinuation { continuation in
            let done = lock.withLock { () -> Bool in
                if inFlight == 0 { return true }
                drainWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }

    func shutdown() {
        (lock.withLock { transport } as? CurlTransport)?.shutdown()
    }
}
