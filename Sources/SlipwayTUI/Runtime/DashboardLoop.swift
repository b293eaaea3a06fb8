import CNcurses
import Foundation

/// The dashboard's run loop, on one dedicated thread: waits on the keyboard and the wake pipe
/// together, polls the store's data version a few times a second, ticks once a second for
/// ages and countdowns, and paints at most ~30 frames a second. Idle, it sleeps in `poll`.
public struct DashboardLoop: Sendable {
    public static let frameInterval: TimeInterval = 1.0 / 30
    public static let storePollInterval: TimeInterval = 0.2
    public static let tickInterval: TimeInterval = 1

    let source: any DashboardSource
    let environment: [String: String]
    let wake: WakePipe
    let options: DashboardOptions

    public init(source: any DashboardSource, environment: [String: String], wake: WakePipe, options: DashboardOptions = DashboardOptions()) {
        self.source = source
        self.environment = environment
        self.wake = wake
        self.options = options
    }

    /// Runs until the user quits or `wake.requestQuit()`; the terminal is restored on return.
    public func run() throws {
        let terminal = try CursesTerminal(environment: environment, theme: options.theme)
        defer { terminal.stop() }
        let (width, height) = terminal.size
        let controller = DashboardController(source: source, width: width, height: height, asciiOnly: !terminal.utf8, options: options)
        let wake = self.wake
        controller.wake = { wake.wake() }
        var themeVersion = controller.themeVersion
        if let note = terminal.fallbackNote { controller.send(.failed(note)) }
        var lastFrame = Date.distantPast
        var lastPoll = Date()
        var lastTick = Date()
        var fds = [pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0), pollfd(fd: wake.readEnd, events: Int16(POLLIN), revents: 0)]
        while true {
            let now = Date()
            var timeout = min(lastPoll.addingTimeInterval(Self.storePollInterval), lastTick.addingTimeInterval(Self.tickInterval)).timeIntervalSince(now)
            if controller.dirty { timeout = min(timeout, lastFrame.addingTimeInterval(Self.frameInterval).timeIntervalSince(now)) }
            _ = poll(&fds, 2, Int32(max(0, timeout) * 1000))
            if fds[1].revents != 0 { wake.drain() }
            if wake.quitRequested { return }
            controller.drainInbox()
            // Keys (a paste or a held key drains in one go) and resizes; curses may have buffered
            // input poll cannot see, so this reads until curses says there is none.
            while let event = terminal.nextEvent() {
                switch event {
                case let .key(key): controller.send(.key(key))
                case let .mouse(event): controller.send(.mouse(event))
                case let .resize(width, height): controller.send(.resize(width: width, height: height))
                }
                if controller.quitRequested { return }
            }
            let after = Date()
            if after.timeIntervalSince(lastPoll) >= Self.storePollInterval {
                lastPoll = after
                controller.pollStore()
            }
            if after.timeIntervalSince(lastTick) >= Self.tickInterval {
                lastTick = after
                controller.send(.tick(after))
            }
            if controller.themeVersion != themeVersion {
                themeVersion = controller.themeVersion
                terminal.apply(controller.theme)
            }
            if controller.dirty, after.timeIntervalSince(lastFrame) >= Self.frameInterval {
                terminal.paint(controller.render())
                controller.markPainted()
                lastFrame = after
            }
            for control in controller.takeControlOutput() { terminal.writeControl(control) }
        }
    }
}
