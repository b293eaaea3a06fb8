import Foundation

/// The queue of the sweep a repository waits in, in the order the lanes go. Each lane has one
/// interval, so within a lane the longest unchecked is the next due and the store's index on
/// (lane, last look) finds a step's work without reading the others.
public enum SweepLane: Int, Sendable, CaseIterable, Comparable {
    /// An app builds from it: at least every `app_poll_seconds`.
    case tracked = 0
    /// Never looked at, or discovery saw it change since the last look: due at once.
    case news = 1
    /// Its heads moved within the active window: pushes come in runs.
    case active = 2
    /// Everything else, round robin within the sweep's share of the budget.
    case quiet = 3
    /// A hook Slipway installed delivers: only the slow safety sweep.
    case hooked = 4

    public static func < (lhs: SweepLane, rhs: SweepLane) -> Bool { lhs.rawValue < rhs.rawValue }

    /// What the engine knows of a repository when it looks, for the lane it waits in afterwards.
    public struct Look: Sendable, Equatable {
        public var tracked: Bool
        public var hooked: Bool
        /// Its heads moved within the active window before this look.
        public var recentlyMoved: Bool

        public init(tracked: Bool, hooked: Bool, recentlyMoved: Bool) {
            self.tracked = tracked
            self.hooked = hooked
            self.recentlyMoved = recentlyMoved
        }

        /// The lane after a look that found heads moved (`moved`) or not.
        public func lane(moved: Bool) -> SweepLane {
            if hooked { return .hooked }
            if tracked { return .tracked }
            return moved || recentlyMoved ? .active : .quiet
        }
    }
}
