import ArgumentParser
import CSpawn
import Foundation
import SlipwayCore
import SlipwayHTTP
import SlipwayProviders
import SlipwayServer
import SlipwayTUI

extension ProviderKind: ExpressibleByArgument {
    /// Help and completion offer what can be linked, not every name the mirror knows (public Git
    /// is added by URL, though `unlink git` takes it too).
    public static var allValueStrings: [String] { ProviderRegistry.descriptors.filter { !$0.linkMethods.isEmpty }.map(\.kind.rawValue) }
}

struct LinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "link",
        abstract: "Link a provider account (one per provider).",
        discussion: """
            Prefer --token-file (use '-' for stdin), --device or --oauth over --token: a token on the \
            command line lands in shell history and in the process list. Over ssh with no browser on \
            the host, --device prints a code to enter in any browser (GitHub).
            """
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The provider.") var provider: ProviderKind
    @Option(name: .customLong("api-url"), help: "REST base URL (default: \(LinkCommand.defaults(\.defaultAPIURL))).") var apiURL: String?
    @Option(name: .customLong("web-url"), help: "Web base URL, for OAuth pages and links (default: \(LinkCommand.defaults(\.defaultWebURL))).") var webURL: String?
    @Option(help: "An access token (workspace, project or repository token).") var token: String?
    @Option(name: .customLong("token-file"), help: ArgumentHelp("Read the token from FILE ('-' for stdin).", valueName: "FILE"))
    var tokenFile: String?
    @Option(help: "Atlassian account e-mail, with --api-token (or --token-file holding the API token).") var email: String?
    @Option(name: .customLong("api-token"), help: "An Atlassian API token, with --email (--token-file keeps it out of the process list).")
    var apiToken: String?
    @Flag(help: "Link through the OAuth authorization-code flow in a browser.") var oauth = false
    @Flag(help: "Link through the OAuth device flow: enter a short code in any browser (for ssh sessions with none).") var device = false
    @Flag(name: .customLong("public-only"), help: "With --device or --oauth: ask only for access to public repositories.") var publicOnly = false
    @Flag(help: "With --device or --oauth: also ask for what installing webhooks needs (GitLab's api scope).") var webhooks = false
    @OptionGroup var output: JSONFlag
    @Flag(help: "Re-authenticate the linked account (the same user), keeping its mirror, apps and hooks.") var relink = false
    @Flag(name: .customLong("client-credentials"), help: "Link with a private OAuth consumer's client credentials.")
    var clientCredentials = false
    @Option(name: .customLong("client-id"), help: "OAuth consumer key, or the app's client ID (GitHub App or OAuth App).") var clientID: String?
    @Option(name: .customLong("client-secret"), help: "OAuth consumer secret ('-' reads it from stdin).") var clientSecret: String?
    @Option(help: ArgumentHelp("With --oauth: give up after this many seconds without an authorization.", valueName: "SECONDS"))
    var timeout: Double = 300

    /// Each linkable provider's default, as its adapter states it (`bitbucket: https://…`).
    static func defaults(_ url: KeyPath<ProviderDescriptor, String>) -> String {
        ProviderRegistry.descriptors.map { "\($0.kind.rawValue): \($0[keyPath: url])" }.joined(separator: ", ")
    }

    /// The one way of authenticating the flags chose.
    var authKind: AuthKind? {
        var kinds: [AuthKind] = []
        // --token-file holds an API token when an e-mail comes with it.
        let apiTokenMode = email != nil || apiToken != nil
        if token != nil || (tokenFile != nil && !apiTokenMode) { kinds.append(.token) }
        if apiTokenMode { kinds.append(.apiToken) }
        if oauth { kinds.append(.oauth) }
        if clientCredentials { kinds.append(.clientCredentials) }
        if device { kinds.append(.device) }
        return kinds.count == 1 ? kinds[0] : nil
    }

    func validate() throws {
        guard ProviderRegistry.descriptor(for: provider) != nil else {
            throw ValidationError("\(provider.rawValue) cannot be linked by this version of Slipway; it links \(ProviderKind.allValueStrings.joined(separator: ", "))")
        }
        if provider == .git {
            throw ValidationError("public Git repositories need no account; add one with 'slipway repos add https://HOST/PATH.git'")
        }
        guard let kind = authKind else {
            throw ValidationError("choose exactly one of --token, --token-file, --email with --api-token, --oauth, --device, --client-credentials")
        }
        if token != nil && tokenFile != nil { throw ValidationError("give --token or --token-file, not both") }
        if let descriptor = ProviderRegistry.descriptor(for: provider) {
            let method: LinkMethod = switch kind {
            case .token, .none: .token
            case .apiToken: .apiToken
            case .oauth: .oauthCode
            case .clientCredentials: .clientCredentials
            case .device: .device
            }
            guard descriptor.linkMethods.contains(method) else {
                let ways = descriptor.linkMethods.map { m -> String in
                    switch m {
                    case .token: "--token-file"
                    case .apiToken: "--email with --api-token"
                    case .oauthCode: "--oauth"
                    case .clientCredentials: "--client-credentials"
                    case .device: "--device"
                    }
                }
                throw ValidationError("\(provider.rawValue) does not link with \(method.rawValue.replacingOccurrences(of: "_", with: " ")); use \(ways.joined(separator: " or "))")
            }
        }
        if kind == .apiToken {
            guard email != nil, (apiToken == nil) != (tokenFile == nil) else {
                throw ValidationError("--email goes with one of --api-token or --token-file")
            }
        }
        if kind == .oauth || kind == .clientCredentials {
            // --client-id may also come from [providers.bitbucket] client_id in the config.
        } else if kind == .device {
            // The device flow's client is public: an ID, no secret.
            if clientSecret != nil { throw ValidationError("--device needs no client secret; give only --client-id") }
        } else if clientID != nil || clientSecret != nil {
            throw ValidationError("--client-id and --client-secret belong with --oauth, --device or --client-credentials")
        }
        if publicOnly {
            guard kind == .oauth || kind == .device else { throw ValidationError("--public-only goes with --device or --oauth") }
            guard ProviderRegistry.descriptor(for: provider)?.publicOnlyScopes != nil else {
                throw ValidationError("\(provider.rawValue) has no public-only grant")
            }
        }
        if webhooks {
            guard kind == .oauth || kind == .device else { throw ValidationError("--webhooks goes with --device or --oauth") }
            guard ProviderRegistry.descriptor(for: provider)?.webhookScopes != nil else {
                throw ValidationError("\(provider.rawValue) grants webhooks with the rest; --webhooks is not needed")
            }
        }
        if output.json && kind != .device { throw ValidationError("--json goes with --device (it prints the code to enter)") }
        for (name, url) in [("api-url", apiURL), ("web-url", webURL)] {
            if let url { try Self.checkURL(url, option: name) }
        }
        if let apiURL, let problem = ProviderRegistry.descriptor(for: provider)?.apiURLProblem(apiURL) {
            throw ValidationError("--api-url '\(apiURL)': \(problem)")
        }
    }

    /// HTTPS only; plain http solely for loopback (the sandbox, tests): the HTTP layer's one policy.
    static func checkURL(_ text: String, option: String) throws {
        do {
            try URLPolicy.check(text)
        } catch .invalidURL {
            throw ValidationError("--\(option) '\(text)' is not a URL")
        } catch {
            throw ValidationError("--\(option) must use https (plain http only for loopback addresses such as 127.0.0.1, and localhost)")
        }
    }

    func run() async throws {
        let context = try global.context()
        try context.refuseIfReadonly("link")
        let factory = ProviderFactory(context: context)
        let linker = AccountLinker(store: context.store, keyFile: context.paths.keyFile, http: factory.http)
        // The one-account rule comes before any request (and before reading a secret from stdin).
        let existing: Account?
        do {
            existing = try linker.checkLinkable(provider, relink: relink)
        } catch let error as AccountError {
            throw SlipwayCLIError.failure(error.description)
        }
        // A relink keeps the linked URLs unless new ones are given.
        let apiURL = self.apiURL ?? existing?.apiURL, webURL = self.webURL ?? existing?.webURL
        if authKind == .device {
            return try await linkDevice(linker: linker, http: factory.http, config: context.config.provider(provider.rawValue), apiURL: apiURL, webURL: webURL)
        }
        if authKind == .oauth || authKind == .clientCredentials {
            return try await linkOAuth(linker: linker, http: factory.http, config: context.config.provider(provider.rawValue), apiURL: apiURL, webURL: webURL)
        }
        let secret: LinkRequest.Secret
        if let email {
            secret = .apiToken(email: email, token: try apiToken ?? readToken())
        } else {
            secret = .token(try readToken())
        }
        do {
            let (account, warnings) = try await linker.link(LinkRequest(provider: provider, apiURL: apiURL, webURL: webURL, secret: secret), relink: relink)
            for warning in warnings { Terminal.warning(warning) }
            if relink {
                Terminal.error("relinked \(provider.rawValue) as @\(account.username); its mirror, apps and hooks are kept")
            } else {
                // A deploy target has no mirror: its user is an e-mail, not an @handle.
                Terminal.error(account.isGitHost
                               ? "linked \(provider.rawValue) as @\(account.username)\(account.displayName.map { " (\($0))" } ?? ""); run 'slipway sync --once' to mirror it"
                               : "linked \(provider.rawValue) as \(account.username)\(account.displayName.map { " (\($0))" } ?? "") to deploy on")
            }
        } catch let error as AccountError {
            throw SlipwayCLIError.failure(error.description)
        } catch let error as VaultError {
            throw SlipwayCLIError.failure(error.description)
        } catch let error as HTTPError {
            throw SlipwayCLIError.failure("could not reach \(provider.displayName): \(error.description)")
        }
    }

    /// OAuth: client credentials at once, or the authorization-code flow through a browser.
    func linkOAuth(linker: AccountLinker, http: HTTPClient, config: SlipwayConfig.Provider, apiURL: String?, webURL: String?) async throws {
        guard let clientID = clientID ?? config.clientID else {
            throw SlipwayCLIError.failure("the consumer's key is needed: --client-id KEY, or client_id in [providers.\(provider.rawValue)] of the config")
        }
        var secret = clientSecret
        if secret == nil, let file = config.clientSecretFile {
            secret = try Self.readSecretFile(file)
        }
        if secret == "-" {
            secret = SecretInput.readLine(prompt: "Paste the consumer's secret, then Enter")?.trimmingCharacters(in: .whitespaces)
        }
        // GitLab's code flow with PKCE needs no secret; the others do.
        let needsSecret = clientCredentials || ProviderRegistry.descriptor(for: provider)?.codeFlowNeedsSecret != false
        if needsSecret, secret?.isEmpty ?? true {
            throw SlipwayCLIError.failure("the consumer's secret is needed: --client-secret S, or --client-secret - to read it from stdin")
        }
        if secret?.isEmpty == true { secret = nil }
        guard let endpoints = ProviderRegistry.descriptor(for: provider)?.oauth else {
            throw SlipwayCLIError.failure("\(provider.rawValue) has no OAuth flow here; link it with a token")
        }
        let client = OAuthClient(webURL: webURL ?? provider.defaultWebURL, endpoints: endpoints, clientID: clientID, clientSecret: secret, http: http)
        do {
            let token: OAuthToken
            let kind: AuthKind
            if clientCredentials {
                token = try await client.clientCredentials()
                kind = .clientCredentials
            } else {
                token = try await authorizationCode(client: client, stdinFree: clientSecret != "-")
                kind = .oauth
            }
            let (account, warnings) = try await linker.linkOAuth(provider: provider, apiURL: apiURL, webURL: webURL, clientID: clientID,
                                                                 clientSecret: secret, token: token, auth: kind, relink: relink,
                                                                 minimumScopes: minimumScopes)
            for warning in warnings { Terminal.warning(warning) }
            let lifetime = token.expiresIn == nil && kind == .oauth ? "its token does not expire" : "tokens refresh themselves"
            Terminal.error(relink ? "relinked \(provider.rawValue) as @\(account.username) through OAuth; its mirror, apps and hooks are kept"
                                  : "linked \(provider.rawValue) as @\(account.username) through OAuth; \(lifetime); run 'slipway sync --once' to mirror it")
        } catch let error as OAuthError {
            throw SlipwayCLIError.failure(error.description)
        } catch let error as AccountError {
            throw SlipwayCLIError.failure(error.description)
        } catch let error as HTTPError {
            throw SlipwayCLIError.failure("could not reach \(provider.displayName): \(error.description)")
        }
    }

    /// What the OAuth flows ask the provider for.
    var requestedScopes: [String] {
        let descriptor = ProviderRegistry.descriptor(for: provider)
        let base = (publicOnly ? descriptor?.publicOnlyScopes : nil) ?? descriptor?.requestedScopes ?? []
        return base + (webhooks ? descriptor?.webhookScopes ?? [] : [])
    }

    /// What a grant must hold for a dashboard (narrower with `--public-only`).
    var minimumScopes: [String]? {
        publicOnly ? ProviderRegistry.descriptor(for: provider)?.publicOnlyMinimumScopes : nil
    }

    /// What `--device --json` prints while it waits: the code and where to enter it.
    struct DeviceCodeRow: Encodable {
        var verificationUri: String
        var verificationUriComplete: String?
        var userCode: String
        var expiresIn: Int
        var interval: Int
    }

    /// The device flow (RFC 8628): prints where to enter which code, polls until someone approves
    /// it in a browser anywhere, and links. A GitHub App's tokens expire and refresh themselves;
    /// an OAuth App's do not expire — `expires_in` tells which.
    func linkDevice(linker: AccountLinker, http: HTTPClient, config: SlipwayConfig.Provider, apiURL: String?, webURL: String?) async throws {
        guard let clientID = clientID ?? config.clientID else {
            throw SlipwayCLIError.failure("the app's client ID is needed: --client-id ID (of an app with the device flow enabled), "
                                          + "or client_id in [providers.\(provider.rawValue)] of the config")
        }
        guard let endpoints = ProviderRegistry.descriptor(for: provider)?.oauth, endpoints.deviceAuthorizationPath != nil else {
            throw SlipwayCLIError.failure("\(provider.rawValue) has no device flow here; link it with a token")
        }
        let client = OAuthClient(webURL: webURL ?? provider.defaultWebURL, endpoints: endpoints, clientID: clientID, clientSecret: nil, http: http)
        do {
            let authorization = try await client.deviceAuthorization(scopes: requestedScopes)
            let minutes = max(1, Int((authorization.expiresIn / 60).rounded()))
            if output.json {
                try printJSON(DeviceCodeRow(verificationUri: authorization.verificationURI, verificationUriComplete: authorization.verificationURIComplete,
                                            userCode: authorization.userCode, expiresIn: Int(authorization.expiresIn), interval: Int(authorization.interval)))
            }
            Terminal.error("open \(TerminalText.sanitize(authorization.verificationURI)) in any browser and enter the code "
                           + "\(TerminalText.sanitize(authorization.userCode)) (it expires in \(minutes) min); waiting for the approval…")
            let token = try await DeviceFlow(client: client).token(for: authorization)
            let (account, warnings) = try await linker.linkOAuth(provider: provider, apiURL: apiURL, webURL: webURL, clientID: clientID,
                                                                 clientSecret: nil, token: token, auth: .device, relink: relink,
                                                                 minimumScopes: minimumScopes)
            for warning in warnings { Terminal.warning(warning) }
            let lifetime = token.expiresIn.map { "its token expires every \(Age.duration($0)) and refreshes itself" } ?? "its token does not expire"
            Terminal.error(relink ? "relinked \(provider.rawValue) as @\(account.username) through the device flow; \(lifetime); its mirror, apps and hooks are kept"
                                  : "linked \(provider.rawValue) as @\(account.username) through the device flow; \(lifetime); run 'slipway sync --once' to mirror it")
        } catch let error as OAuthError {
            throw SlipwayCLIError.failure(error.description)
        } catch let error as AccountError {
            throw SlipwayCLIError.failure(error.description)
        } catch let error as HTTPError {
            throw SlipwayCLIError.failure("could not reach \(provider.displayName): \(error.description)")
        }
    }

    /// A secret file named in the config: owner-only, first line.
    static func readSecretFile(_ path: String) throws -> String {
        let expanded = path.hasPrefix("~/") ? (ProcessInfo.processInfo.environment["HOME"] ?? "") + path.dropFirst() : path
        let mode = slw_file_mode(expanded, 1)
        guard mode >= 0, let data = FileManager.default.contents(atPath: expanded) else {
            throw SlipwayCLIError.failure("cannot read client_secret_file \(expanded); check the path in the config")
        }
        guard mode & 0o077 == 0 else {
            throw SlipwayCLIError.failure("client_secret_file \(expanded) is readable by others; run 'chmod 600 \(expanded)'")
        }
        return String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
    }

    /// Prints the authorize URL, then takes whichever comes first: the browser's redirect to the
    /// loopback listener, or the redirected URL (or its code) pasted on stdin — for ssh sessions
    /// whose browser runs elsewhere.
    func authorizationCode(client: OAuthClient, stdinFree: Bool) async throws -> OAuthToken {
        let state = PKCE.randomToken()
        let pkce = PKCE.random()
        let listener = try await OAuthCallbackServer.start(expectedState: state)
        let url = client.authorizeURL(state: state, redirectURI: listener.redirectURI, pkce: pkce, scopes: requestedScopes)
        // The paste comes from stdin, or — when stdin carried the secret — from the terminal.
        let pasted: FileHandle? = stdinFree ? FileHandle.standardInput : FileHandle(forReadingAtPath: "/dev/tty")
        Terminal.error("open this URL in a browser and approve Slipway:\n\n  \(url)\n\n"
                       + (pasted != nil ? "waiting for the redirect to \(listener.redirectURI) — or paste the URL the browser was sent to (or its code) here:" : "waiting for the redirect to \(listener.redirectURI)"))
        if let pasted {
            // A thread of its own: a blocked read must not hold up cancellation or the pool.
            let reader = Thread {
                while let line = Self.readLine(from: pasted) {
                    guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
                    do {
                        listener.deliver(.success(try AuthorizationRedirect.code(from: line, expectedState: state)))
                        return
                    } catch {
                        Terminal.warning("\(error); paste the whole redirected URL or its code")
                    }
                }
            }
            reader.start()
        }
        let limit = timeout
        let timer = Task {
            try? await Task.sleep(nanoseconds: UInt64(limit * 1_000_000_000))
            listener.deliver(.failure(OAuthError.timedOut))
        }
        defer { timer.cancel() }
        do {
            let code = try await listener.code()
            let token = try await client.exchange(code: code, redirectURI: listener.redirectURI, pkce: pkce)
            // Let the browser's "authorized" page finish before the listener goes away.
            try? await Task.sleep(nanoseconds: 200_000_000)
            await listener.stop()
            return token
        } catch {
            await listener.stop()
            throw error
        }
    }

    /// One line from a file handle (the terminal, when stdin was spent on a secret), or nil at its end.
    static func readLine(from handle: FileHandle) -> String? {
        var bytes: [UInt8] = []
        while true {
            guard let byte = try? handle.read(upToCount: 1), let first = byte.first else {
                return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
            }
            if first == UInt8(ascii: "\n") { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(first)
        }
    }

    /// The token from --token, or the first line of --token-file (stdin for '-').
    func readToken() throws -> String {
        if let token { return token.trimmingCharacters(in: .whitespacesAndNewlines) }
        guard let tokenFile else { throw SlipwayCLIError.failure(AccountError.emptySecret.description) }
        let first: String
        if tokenFile == "-" {
            first = SecretInput.readLine(prompt: email == nil ? "Paste the token, then Enter" : "Paste the API token, then Enter") ?? ""
        } else {
            guard let contents = FileManager.default.contents(atPath: tokenFile) else {
                throw SlipwayCLIError.failure("cannot read the token file \(tokenFile); check the path and its permissions")
            }
            first = String(decoding: contents, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        }
        let token = first.trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty else { throw SlipwayCLIError.failure(AccountError.emptySecret.description) }
        return token
    }
}

struct UnlinkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unlink",
        abstract: "Remove a linked account, its secrets and its mirrored data."
    )

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The provider to unlink.") var provider: ProviderKind
    @Flag(name: .customLong("keep-webhooks"), help: "Leave webhooks Slipway installed on the provider.") var keepWebhooks = false
    @OptionGroup var confirmation: ConfirmFlag

    func run() async throws {
        let context = try global.context()
        try context.refuseIfReadonly("unlink")
        guard let account = try context.store.account(for: provider) else {
            throw SlipwayCLIError.failure("\(provider.rawValue) is not linked; see 'slipway accounts'")
        }
        let who = provider == .git ? "its \(try context.store.publicRepositories().count) public repositories" : "@\(account.username)"
        try confirmation.confirm(provider == .git ? "Unlink git, removing \(who) and their mirrored data?"
                                 : "Unlink \(provider.rawValue) (\(who)), deleting its secrets and mirrored data?",
                                 refused: "\(provider.rawValue) stays linked")
        if !keepWebhooks {
            // The hooks would call a Slipway that can no longer verify them: taken off first.
            let installed = try context.store.installedWebhooks(accountID: account.id!)
            if !installed.isEmpty {
                let installer = try WebhooksCommand.installer(context, account: account)
                for hook in installed {
                    let place = MirrorPath(provider: provider, workspace: hook.workspaceSlug, repository: hook.repositorySlug)
                    let path = place.description
                    guard let repository = try context.store.repository(at: place) else { continue }
                    do {
                        try await installer.remove(.init(repository: repository, workspaceSlug: hook.workspaceSlug, path: path), url: hook.subscription.url)
                        Terminal.error("removed the webhook on \(path)")
                    } catch {
                        throw SlipwayCLIError.failure("cannot remove the webhook on \(path) (\(error)); nothing was unlinked. "
                                                      + "Try again, or pass --keep-webhooks to leave Slipway's hooks on \(provider.rawValue)")
                    }
                }
            }
        }
        try context.store.deleteAccount(provider: provider)
        Terminal.error(provider == .git ? "unlinked git; \(who) and their mirrored data are gone"
                       : "unlinked \(provider.rawValue) (\(who)); its secrets and mirrored data are gone")
        let kept = try context.store.apps().filter { MirrorPath.parseProvider($0.sourcePath) == provider }.map(\.name)
        if !kept.isEmpty {
            Terminal.error("kept \(kept.count) app\(kept.count == 1 ? "" : "s") built from \(provider.rawValue) (\(kept.joined(separator: ", "))), marked unlinked: "
                           + "they deploy nothing until you link \(provider.rawValue) again, which re-attaches them")
        }
    }
}

struct AccountsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accounts",
        abstract: "List linked accounts."
    )

    @OptionGroup var global: GlobalOptions
    @OptionGroup var output: JSONFlag

    struct Row: Encodable {
        var provider: String
        /// `git` for a Git host, `deploy` for a deploy target.
        var kind: String
        var username: String?
        var displayName: String?
        /// The user's primary address, when the provider gives it.
        var email: String?
        var apiUrl: String
        var auth: String
        var status: String
        var pausedUntil: Date?
        var scopes: [String]
        var tokenExpiresAt: Date?
        var budgets: [Budget]

        struct Budget: Encodable {
            var kind: String
            var window = "hour"
            var limit: Int
            var remaining: Int
            var resetsAt: Date?
            /// The host the budget is kept for (public Git has one per host).
            var host: String? = nil

            enum CodingKeys: String, CodingKey { case kind, window, limit, remaining, resetsAt, host }

            func encode(to encoder: any Encoder) throws {
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(kind, forKey: .kind)
                try c.encode(window, forKey: .window)
                try c.encode(limit, forKey: .limit)
                try c.encode(remaining, forKey: .remaining)
                try c.encode(resetsAt, forKey: .resetsAt)
                try c.encode(host, forKey: .host)
            }
        }

        // Absent values are printed as null, not dropped: the contract lists every field.
        enum CodingKeys: String, CodingKey {
            case provider, kind, username, displayName, email, apiUrl, auth, status, pausedUntil, scopes, tokenExpiresAt, budgets
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(provider, forKey: .provider)
            try c.encode(kind, forKey: .kind)
            try c.encode(username, forKey: .username)
            try c.encode(displayName, forKey: .displayName)
            try c.encode(email, forKey: .email)
            try c.encode(apiUrl, forKey: .apiUrl)
            try c.encode(auth, forKey: .auth)
            try c.encode(status, forKey: .status)
            try c.encode(pausedUntil, forKey: .pausedUntil)
            try c.encode(scopes, forKey: .scopes)
            try c.encode(tokenExpiresAt, forKey: .tokenExpiresAt)
            try c.encode(budgets, forKey: .budgets)
        }
    }

    func run() async throws {
        let context = try global.context()
        let accounts = try context.store.accounts()
        let buckets = try StoreBudgetLedger(store: context.store).all()
        let now = Date()
        let rows = accounts.map { account in
            // The shared buckets say whether the credential is paused right now (a 429 seen by
            // any process), which the account row alone does not.
            let own = buckets.filter { $0.key.credential == account.budgetCredential }
            let paused = own.compactMap { $0.bucket.pausedUntil }.filter { $0 > now }.max()
            let status = account.status == .ok && paused != nil ? AccountStatus.rateLimited : account.status
            let budgets = own.flatMap { entry -> [Row.Budget] in
                var bucket = entry.bucket
                bucket.refill(now: now)
                var windows = [Row.Budget(kind: entry.key.kind.rawValue, limit: bucket.headerLimit ?? Int(bucket.capacity.rounded()),
                                          remaining: bucket.headerRemaining ?? Int(bucket.tokens.rounded(.down)), resetsAt: bucket.headerResetAt,
                                          host: entry.key.host)]
                // A per-minute window, where the provider has one, is its own entry.
                if let minute = bucket.minute {
                    windows.append(Row.Budget(kind: entry.key.kind.rawValue, window: "minute", limit: Int(minute.capacity.rounded()),
                                              remaining: Int(minute.tokens.rounded(.down)), resetsAt: nil, host: entry.key.host))
                }
                return windows
            }
            // Public Git has no user at all.
            return Row(provider: account.provider.rawValue, kind: account.provider.accountKind.rawValue, username: account.auth == .none ? nil : account.username,
                       displayName: account.displayName, email: account.email, apiUrl: account.apiURL,
                       auth: account.auth.rawValue, status: status.rawValue, pausedUntil: paused, scopes: account.scopes,
                       tokenExpiresAt: account.tokenExpiresAt, budgets: budgets)
        }
        // Where the budgets cannot give tracked repositories their app_poll_seconds, say so.
        for plan in (try? TrackedPolling.plan(store: context.store, settings: EngineFactory.settings(config: context.config))) ?? [] where plan.stretched {
            Terminal.warning(plan.message)
        }
        if output.json { return try printJSON(rows) }
        if rows.isEmpty {
            Terminal.error("no accounts linked; run 'slipway link bitbucket --token-file -' to link one")
            return
        }
        var table = TextTable("PROVIDER", "USER", "NAME", "EMAIL", "AUTH", "STATUS", "EXPIRES", "SCOPES")
        for row in rows {
            let status = row.pausedUntil.map { "\(row.status) (resumes \(RelativeTime.text($0) ?? ""))" } ?? row.status
            table.add(row.provider, row.username.map { row.kind == AccountKind.git.rawValue ? "@" + $0 : $0 } ?? "-", row.displayName, row.email.map { TerminalText.sanitize($0) } ?? "-", row.auth, status,
                      RelativeTime.text(row.tokenExpiresAt), row.scopes.joined(separator: " "))
        }
        Terminal.out(table.render())
    }
}
