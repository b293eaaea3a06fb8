import Foundation

/// A workspace (Bitbucket), organization (GitHub) or group (GitLab) of an account.
public struct Workspace: Sendable, Equatable, Codable, Identifiable {
    public var id: Int64?
    public var accountID: Int64
    public var slug: String
    public var remoteID: String?
    public var name: String?
    public var isAdmin: Bool
    public var updatedAt: Date

    public init(id: Int64? = nil, accountID: Int64, slug: String, remoteID: String? = nil, name: String? = nil,
                isAdmin: Bool = false, updatedAt: Date) {
        self.id = id
        self.accountID = accountID
        self.slug = slug
        self.remoteID = remoteID
        self.name = name
        self.isAdmin = isAdmin
        self.updatedAt = updatedAt
    }
}

public struct Repository: Sendable, Equatable, Codable, Identifiable {
    public var id: Int64?
    public var workspaceID: Int64
    public var slug: String
    public var remoteID: String?
    public var name: String
    public var fullName: String
    public var mainBranch: String?
    public var isPrivate: Bool
    public var isAdmin: Bool
    /// The provider's `updated_on`, which drives discovery.
    public var updatedOn: Date?
    public var cloneURL: String?
    public var webURL: String?
    public var branchCount: Int
    public var lastCheckedAt: Date?
    public var updatedAt: Date

    public init(id: Int64? = nil, workspaceID: Int64, slug: String, remoteID: String? = nil, name: String,
                fullName: String, mainBranch: String? = nil, isPrivate: Bool = true, isAdmin: Bool = false,
                updatedOn: Date? = nil, cloneURL: String? = nil, webURL: String? = nil, branchCount: Int = 0,
                lastCheckedAt: Date? = nil, updatedAt: Date) {
        self.id = id
        self.workspaceID = workspaceID
        self.slug = slug
        self.remoteID = remoteID
        self.name = name
        self.fullName = fullName
        self.mainBranch = mainBranch
        self.isPrivate = isPrivate
        self.isAdmin = isAdmin
        self.updatedOn = updatedOn
        self.cloneURL = cloneURL
        self.webURL = webURL
        self.branchCount = branchCount
        self.lastCheckedAt = lastCheckedAt
        self.updatedAt = updatedAt
    }
}

/// A branch and what is known of its head commit (hash always; details once fetched).
public struct Branch: Sendable, Equatable, Codable, Identifiable {
    public var id: Int64?
    public var repositoryID: Int64
    public var name: String
    public var headHash: String
    public var headDate: Date?
    /// "Name <email>", as the provider gives the raw author.
    public var headAuthor: String?
    public var headMessage: String?
    public var updatedAt: Date

    public init(id: Int64? = nil, repositoryID: Int64, name: String, headHash: String, headDate: Date? = nil,
                headAuthor: String? = nil, headMessage: String? = nil, updatedAt: Date) {
        self.id = id
        self.repositoryID = repositoryID
        self.name = name
        self.headHash = headHash
        self.headDate = headDate
        self.headAuthor = headAuthor
        self.headMessage = headMessage
        self.updatedAt = updatedAt
    }
}

public struct Commit: Sendable, Equatable, Codable, Identifiable {
    public var id: Int64?
    public var repositoryID: Int64
    public var hash: String
    public var author: String?
    public var date: Date?
    public var message: String?
    public var parents: [String]

    public init(id: Int64? = nil, repositoryID: Int64, hash: String, author: String? = nil, date: Date? = nil,
                message: String? = nil, parents: [String] = []) {
        self.id = id
        self.repositoryID = repositoryID
        self.hash = hash
        self.author = author
        self.date = date
        self.message = message
        self.parents = parents
    }
}
