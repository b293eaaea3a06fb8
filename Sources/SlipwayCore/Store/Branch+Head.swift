import Foundation
import SlipwayProviders

/// How every writer of the mirror (full listing, git sweep, webhook) sets a branch's head: the
/// hash, with whatever details of that commit are known (none leaves them empty, not stale).
extension Branch {
    init(repositoryID: Int64, name: String, head hash: String, details: ProviderCommit?, now: Date) {
        self.init(repositoryID: repositoryID, name: name, headHash: hash, headDate: details?.date,
                  headAuthor: details?.author, headMessage: details?.message, updatedAt: now)
    }

    mutating func moveHead(to hash: String, details: ProviderCommit?, now: Date) {
        headHash = hash
        headDate = details?.date
        headAuthor = details?.author
        headMessage = details?.message
        updatedAt = now
    }
}
