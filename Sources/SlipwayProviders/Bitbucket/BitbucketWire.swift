import Foundation

/// Bitbucket's JSON, decoded leniently: unknown fields are ignored and everything not needed to
/// identify an object is optional, because real responses omit, null and deprecate fields.
enum BitbucketWire {
    struct Page<Value: Decodable>: Decodable {
        var values: [Value]
        var next: String?
    }

    struct Link: Decodable { var href: String? }

    /// One of `/user/emails`' values.
    struct Email: Decodable {
        var email: String
        var isPrimary: Bool?
        var isConfirmed: Bool?

        enum CodingKeys: String, CodingKey {
            case email
            case isPrimary = "is_primary"
            case isConfirmed = "is_confirmed"
        }
    }

    struct User: Decodable {
        var uuid: String?
        var accountID: String?
        var nickname: String?
        var username: String?
        var displayName: String?

        enum CodingKeys: String, CodingKey {
            case uuid, nickname, username
            case accountID = "account_id"
            case displayName = "display_name"
        }
    }

    struct WorkspaceBase: Decodable {
        var uuid: String?
        var slug: String
        var name: String?
    }

    struct WorkspaceAccess: Decodable {
        var administrator: Bool?
        var workspace: WorkspaceBase
    }

    struct Workspace: Decodable {
        var uuid: String?
        var slug: String
        var name: String?
    }

    struct Repository: Decodable {
        struct MainBranch: Decodable { var name: String? }
        struct Links: Decodable {
            struct Clone: Decodable { var name: String?; var href: String? }
            var html: Link?
            var clone: [Clone]?
        }

        var uuid: String?
        var slug: String?
        var name: String?
        var fullName: String?
        var isPrivate: Bool?
        var updatedOn: Timestamp?
        var mainbranch: MainBranch?
        var links: Links?

        enum CodingKeys: String, CodingKey {
            case uuid, slug, name, mainbranch, links
            case fullName = "full_name"
            case isPrivate = "is_private"
            case updatedOn = "updated_on"
        }
    }

    struct Commit: Decodable {
        struct Author: Decodable { var raw: String? }
        struct Parent: Decodable { var hash: String? }

        var hash: String
        var date: Timestamp?
        var author: Author?
        var message: String?
        var parents: [Parent]?
    }

    struct Branch: Decodable {
        var name: String
        var target: Commit?
    }

    /// A timestamp in any of Bitbucket's shapes; an unreadable one decodes as nil, not an error.
    struct Timestamp: Decodable {
        var date: Date?

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            date = (try? container.decode(String.self)).flatMap(ProviderDate.parse)
        }
    }
}

extension BitbucketWire.Commit {
    var providerCommit: ProviderCommit {
        ProviderCommit(hash: hash, date: date?.date, author: author?.raw, message: message, parents: (parents ?? []).compactMap(\.hash))
    }
}
