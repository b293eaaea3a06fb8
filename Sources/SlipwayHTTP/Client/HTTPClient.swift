import Foundation

/// What a credential may spend: its hourly allowance per kind, the share the engine may use, and
/// how many requests may run at once.
public struct BudgetLimits: Sendable, Equatable {
    public var hourlyAllowance: Int
    /// A second window where the provider states one (GitLab per minute, App Platform 250).
    public var perMinute: Int?
    public var fraction: Double
    public var maxInFlight: Int

    public init(hourlyAllowance: Int, perMinute: Int? = nil, fraction: Double = 0.8, maxInFlight: Int = 4) {
        self.hourlyAllowance = hourlyAllowance
        self.perMinute = perMinute
        self.fraction = fraction
        self.maxInFlight = maxInFlight
    }

    /// Until the caller configures each provider's allowances: a modest REST budget and a large
    /// git one (providers meter git smart HTTP far more loosely).
    public static func unconfigured(kind: RequestKind) -> BudgetLimits {
        BudgetLimits(hourlyAllowance: kind == .rest ? 1000 : 60000)
    }
}

/// The client every provider call goes through: URL policy, shared budgets and 429 pauses,
/// per-credential concurrency with an interactive lane, full-jitter retries of idempotent
/// requests, redirects that never leave https, and typed errors.
public final class HTTPClient: Sendable {
    public struct Configuration: Sendable {
        public var backoff = Backoff()
        public var pausePolicy = RateLimitPausePolicy()
        /// 429s in a row a single request sits through before giving up.
        public var maxRateLimitRetries = 5
        public var maxRedirects = 5
        /// Background requests leave this many tokens for interactive ones.
        public var interactiveReserve: Double = 5
        public var allowLoopbackHTTP = true
        public var limits: @Sendable (BudgetKey) -> BudgetLimits = { BudgetLimits.unconfigured(kind: $0.kind) }

        public init() {}
    }

    public let transport: any HTTPTransport
    public let ledger: any BudgetLedger
    public let clock: any SlipwayClock
    public let random: any RandomSource
    public let configuration: Configuration
    /// Validators of conditional requests (ETag, Last-Modified), per request key.
    public let validators: any ValidatorStore
    private let limiter = InFlightLimiter()

    public init(transport: any HTTPTransport, ledger: any BudgetLedger = InMemoryBudgetLedger(), clock: any SlipwayClock = SystemClock(),
                random: any RandomSource = SystemRandom(), configuration: Configuration = Configuration(),
                validators: any ValidatorStore = InMemoryValidatorStore()) {
        self.transport = transport
        self.validators = validators
        self.ledger = ledger
        self.clock = clock
        self.random = random
        self.configuration = configuration
    }

    /// Sends a request and returns a 2xx/3xx response, or throws an `HTTPError` (or
    /// `CancellationError`). `deadline` bounds how long it may wait for budget or a rate-limit
    /// pause: past it, `.rateLimited` says when the credential may resume.
    /// `deadline` defaults to the task's `RequestContext`.
    public func send(_ original: HTTPRequest, deadline explicitDeadline: Date? = nil) async throws -> HTTPResponse {
        let deadline = explicitDeadline ?? RequestContext.current.deadline
        var request = original
        if let conditional = request.conditional, let known = validators.validators(for: conditional.key) {
            if let etag = known.etag { request.headers.set("If-None-Match", etag) }
            if let modified = known.lastModified { request.headers.set("If-Modified-Since", modified) }
        }
        let target = try URLPolicy.check(request.url, allowLoopbackHTTP: configuration.allowLoopbackHTTP)
        if let origins = request.credentialOrigins, request.carriesCredential,
           !(Origin(url: request.url).map(origins.contains) ?? false) {
            throw HTTPError.credentialOriginRefused(url: request.url)
        }
        var failures = 0
        var rateLimits = 0
        while true {
            try Task.checkCancellation()
            let outcome: Result<HTTPResponse, HTTPError>
            do {
                outcome = .success(try await attempt(request, host: target.host, deadline: deadline))
            } catch let error as HTTPError {
                outcome = .failure(error)
            }
            switch outcome {
            case let .success(response):
                if let conditional = request.conditional, response.status != 304, let fresh = Validators(response.headers) {
                    validators.remember(fresh, for: conditional.key)
                }
                return response
            case let .failure(error):
                if case .rateLimited = error, request.budget != nil, rateLimits < configuration.maxRateLimitRetries {
                    // The pause is recorded; the next attempt waits it out (within the deadline).
                    rateLimits += 1
                    continue
                }
                guard error.isTransient, request.isRetryable, failures + 1 < configuration.backoff.maxAttempts else { throw error }
                let delay = configuration.backoff.delay(retry: failures, random: random)
                failures += 1
                try await clock.sleep(for: delay)
            }
        }
    }

    /// Spends requests of a budget for work this client does not carry (a git process's fetch,
    /// which makes its own requests), waiting for them as a request of the task's lane would:
    /// past the task's deadline, `.rateLimited` says when the budget allows them.
    public func spend(_ key: BudgetKey, requests: Int = 1) async throws {
        let limits = configuration.limits(key)
        for _ in 0..<max(0, requests) {
            try await spendToken(key, limits: limits, lane: RequestContext.current.lane, deadline: RequestContext.current.deadline, host: key.host)
        }
    }

    /// One try: budget, a slot, the transfer (with redirects), and what the answer means.
    private func attempt(_ request: HTTPRequest, host: String, deadline: Date?) async throws -> HTTPResponse {
        guard let key = request.budget else {
            let response = try await exchange(request)
            if response.status == 429 || request.isRateLimit?(response) == true {
                let wait = response.headers["Retry-After"].flatMap { RetryAfter.parse($0, now: clock.now) } ?? configuration.pausePolicy.minimum
                throw HTTPError.rateLimited(host: host, resumeAt: clock.now.addingTimeInterval(wait))
            }
            return try Self.check(response, host: host)
        }
        let limits = configuration.limits(key)
        try await limiter.acquire(key.credential, limit: limits.maxInFlight, lane: request.lane)
        defer { limiter.release(key.credential, limit: limits.maxInFlight) }
        try await spendToken(key, limits: limits, lane: request.lane, deadline: deadline, host: host)

        let response = try await exchange(request)
        let headers = request.rateLimitHeaders?(response.headers) ?? RateLimitHeaders.parse(response.headers)
        let now = clock.now
        if response.status == 429 || request.isRateLimit?(response) == true {
            let retryAfter = response.headers["Retry-After"].flatMap { RetryAfter.parse($0, now: now) }
            let policy = configuration.pausePolicy
            let random = self.random
            let resumeAt: Date = try await ledger.update(key) { bucket in
                var b = bucket ?? TokenBucket(hourlyAllowance: limits.hourlyAllowance, perMinute: limits.perMinute, fraction: limits.fraction, now: now)
                if !headers.isEmpty { b.apply(headers, fraction: limits.fraction, now: now) }
                let pause = policy.pause(retryAfter: retryAfter, consecutive: b.consecutiveRateLimits + 1, random: random)
                b.rateLimited(pause: pause, drain: retryAfter == nil && headers.isEmpty, now: now)
                bucket = b
                return b.pausedUntil ?? now.addingTimeInterval(pause)
            }
            throw HTTPError.rateLimited(host: host, resumeAt: resumeAt)
        }
        // An unchanged answer the provider does not charge gives its token back.
        let refund = response.status == 304 && request.conditional?.unchangedIsFree == true
        try await ledger.update(key) { bucket in
            var b = bucket ?? TokenBucket(hourlyAllowance: limits.hourlyAllowance, perMinute: limits.perMinute, fraction: limits.fraction, now: now)
            if !headers.isEmpty { b.apply(headers, fraction: limits.fraction, now: now) }
            if refund { b.giveBack() }
            b.succeeded()
            bucket = b
        }
        return try Self.check(response, host: host)
    }

    /// Waits (on the injected clock) until the bucket gives a token; background requests leave a
    /// reserve for interactive ones. Nothing is sent while the credential is paused.
    private func spendToken(_ key: BudgetKey, limits: BudgetLimits, lane: RequestLane, deadline: Date?, host: String) async throws {
        let reserve = lane == .background ? configuration.interactiveReserve : 0
        while true {
            let now = clock.now
            let wait: TimeInterval? = try await ledger.update(key) { bucket in
                var b = bucket ?? TokenBucket(hourlyAllowance: limits.hourlyAllowance, perMinute: limits.perMinute, fraction: limits.fraction, now: now)
                defer { bucket = b }
                // A window the config added later (or took away) is set up or dropped here.
                if limits.perMinute == nil { b.minute = nil } else if b.minute == nil {
                    b.minute = TokenBucket(hourlyAllowance: limits.hourlyAllowance, perMinute: limits.perMinute, fraction: limits.fraction, now: now).minute
                }
                return b.take(now: now, reserve: reserve)
            }
            guard let wait else { return }
            let resumeAt = now.addingTimeInterval(wait)
            if let deadline, resumeAt > deadline { throw HTTPError.rateLimited(host: host, resumeAt: resumeAt) }
            try await clock.sleep(until: resumeAt)
        }
    }

    /// The transfer, following redirects that stay on https (or on loopback http). Credentials go
    /// only to the origins they were linked for: a hop anywhere else drops every credential header.
    private func exchange(_ original: HTTPRequest) async throws -> HTTPResponse {
        var request = original
        let credentialOrigins = original.credentialOrigins ?? Set([Origin(url: original.url)].compactMap { $0 })
        var hops = 0
        while true {
            let response: HTTPResponse
            do {
                response = try await transport.perform(request)
            } catch let error as HTTPError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                throw HTTPError.network(.other, host: URLComponents(string: request.url)?.host ?? "", detail: "\(error)")
            }
            guard [301, 302, 303, 307, 308].contains(response.status), let location = response.headers["Location"] else {
                return response
            }
            guard hops < configuration.maxRedirects else { throw HTTPError.tooManyRedirects(url: original.url) }
            hops += 1
            guard let next = URL(string: location, relativeTo: URL(string: request.url))?.absoluteString else {
                throw HTTPError.invalidURL(location)
            }
            let from = try URLPolicy.check(request.url, allowLoopbackHTTP: configuration.allowLoopbackHTTP)
            let to: (scheme: String, host: String)
            do {
                to = try URLPolicy.check(next, allowLoopbackHTTP: configuration.allowLoopbackHTTP)
            } catch {
                throw HTTPError.redirectRefused(from: request.url, to: next)
            }
            // Never downgrade: https may only redirect to https.
            if from.scheme == "https" && to.scheme != "https" { throw HTTPError.redirectRefused(from: request.url, to: next) }
            if !(Origin(url: next).map(credentialOrigins.contains) ?? false) { request.removeCredentials() }
            if response.status == 303 || ((response.status == 301 || response.status == 302) && request.method == .post) {
                request.method = .get
                request.body = nil
            }
            request.url = next
        }
    }

    /// Maps error statuses to typed errors with the provider's own message.
    static func check(_ response: HTTPResponse, host: String) throws -> HTTPResponse {
        switch response.status {
        case 200..<400:
            return response
        case 401:
            var message = HTTPError.providerMessage(response.body)
            if message.isEmpty, let challenge = response.headers["WWW-Authenticate"] { message = HTTPError.clean(challenge) }
            throw HTTPError.unauthorized(host: host, message: message)
        case 403:
            throw HTTPError.forbidden(host: host, message: HTTPError.providerMessage(response.body))
        case 404:
            throw HTTPError.notFound(url: response.url, message: HTTPError.providerMessage(response.body))
        default:
            throw HTTPError.status(response.status, url: response.url, message: HTTPError.providerMessage(response.body))
        }
    }

    /// Requests of a credential on the wire right now.
    public func inFlight(credential: String) -> Int { limiter.inFlight(credential) }

    /// Requests of a credential waiting for a slot.
    public func inFlightWaiting(credential: String) -> Int { limiter.waiting(credential) }
}
