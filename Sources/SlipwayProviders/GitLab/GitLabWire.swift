import Foundation

/// GitLab REST v4 JSON as the adapter reads it: lenient where GitLab may leave a field out.
enum GitLabWire {
    struct User: Decodable, Sendable {
        var id: Int64
        var username: String
        var name: String?
        var email: String?
        var public_email: String?
    }

    struct TokenSelf: Decodable, Sendable { var scopes: [String]? }

    struct Namespace: Decodable, Sendable {
        var id: Int64?
        var name: String?
        var path: String?
        var kind: String?
        var full_path: String
    }

    struct Access: Decodable, Sendable { var access_level: Int? }

    struct Permissions: Decodable, Sendable {
        var project_access: Access?
        var group_access: Access?
        var level: Int { max(project_access?.access_level ?? 0, group_access?.access_level ?? 0) }
    }

    struct Project: Decodable, Sendable {
        var id: Int64
        var name: String
        var path: String
        var path_with_namespace: String
        var default_branch: String?
        var visibility: String?
        var web_url: String?
        var http_url_to_repo: String?
        var last_activity_at: String?
        var namespace: Namespace
        var permissions: Permissions?
    }

    struct Commit: Decodable, Sendable {
        var id: String
        var title: String?
        var message: String?
        var author_name: String?
        var author_email: String?
        var committed_date: String?
        var authored_date: String?
        var parent_ids: [String]?

        var providerCommit: ProviderCommit {
            let author = [author_name, author_email.map { "<\($0)>" }].compactMap { $0 }.joined(separator: " ")
            return ProviderCommit(hash: id.lowercased(), date: (committed_date ?? authored_date).flatMap(ProviderDate.parse),
                                  author: author.isEmpty ? nil : author, message: message ?? title, parents: parent_ids ?? [])
        }
    }

    struct Branch: Decodable, Sendable {
        var name: String
        var commit: Commit?
    }

    struct Compare: Decodable, Sendable { var commits: [Commit] }

    struct Hook: Decodable, Sendable {
        var id: Int64
        var url: String
        var push_events: Bool?
        var token_present: Bool?
        /// GitLab 19.0+; absent before (a `signing_token` sent to an older GitLab is ignored).
        var signing_token_present: Bool?
        var description: String?
        var name: String?
        var alert_status: String?

        var providerHook: ProviderHook {
            ProviderHook(id: String(id), url: url, events: push_events == false ? [] : ["push_events"], active: alert_status != "disabled",
                         description: description ?? name, hasSecret: token_present ?? false,
                         signed: signing_token_present ?? false)
        }
    }
}
