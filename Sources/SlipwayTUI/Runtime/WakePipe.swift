import Foundation
import Synchronization

/// Interrupts the dashboard's wait from any thread (a signal, the engine, a quit request):
/// the loop polls this pipe together with the keyboard.
public final class WakePipe: Sendable {
    let readEnd: Int32
    let writeEnd: Int32
    private let quit = Atomic<Bool>(false)

    public init() {
        var fds: [Int32] = [0, 0]
        _ = pipe(&fds)
        readEnd = fds[0]
        writeEnd = fds[1]
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
    }

    deinit {
        close(readEnd)
        close(writeEnd)
    }

    public func wake() {
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
    }

    /// Asks the dashboard to leave (SIGINT, SIGTERM).
    public func requestQuit() {
        quit.store(true, ordering: .sequentiallyConsistent)
        wake()
    }

    var quitRequested: Bool { quit.load(ordering: .sequentiallyConsistent) }

    func drain() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(readEnd, &buffer, buffer.count) > 0 {}
    }
}
