import Foundation

/// Builds the sandbox's world from a seed: the same seed, the same workspaces, repositories,
/// branches and commits, byte for byte.
enum WorldGenerator {
    static let authors = [
        "Ada Lovelace <ada@example.com>", "Grace Hopper <grace@example.org>", "Linus Torvalds <linus@example.net>",
        "Margaret Hamilton <mh@example.com>", "Zoë Ångström <zoe@example.se>", "田中 太郎 <taro@example.jp>",
        "Jürgen Müller <jm@example.de>", "Ørjan Sæther <orjan@example.no>", "李小龙 <bruce@example.cn>",
        "Dev Bot <bot@example.com>", "Renée Émile <renee@example.fr>", "Александр Пушкин <ap@example.ru>",
    ]

    static let subjects = [
        "Fix the login redirect", "Add retry to the payment client", "Bump dependencies", "Refactor the build script",
        "Update README", "Handle empty pages in the importer", "Speed up the search index", "Remove dead code",
        "修复登录页面的错误", "ログイン画面を修正", "🚀 Deploy the new pipeline", "Ajout de la traduction française",
        "Merge branch 'develop' into main", "Revert \"Add caching layer\"", "WIP: experiment with 🧪 feature flags",
        "Исправить утечку памяти", "Add Dockerfile for the worker", "Make tests deterministic",
    ]

    /// Strings that must never reach a terminal raw: escape sequences, carriage returns, bidi
    /// overrides, zero-width characters, an OSC 52 clipboard write, and a very long line.
    static let hostile = [
        "Fix \u{1B}[31mred\u{1B}[0m text and \u{1B}[2J clear",
        "Innocent subject\rFAKE: all tests passed",
        "Rename admin\u{202E}gnp.exe",
        "Zero\u{200B}width\u{2066}isolate\u{2069} text",
        "Copy \u{1B}]52;c;ZWNobyBwd25lZA==\u{07} to clipboard",
        "Bell\u{07} and backspace\u{08}\u{08}\u{08} and DEL\u{7F}",
        "C1 control \u{9B}31m here",
        String(repeating: "Very long line that keeps going ", count: 40),
    ]

    static let branchWords = ["login", "payments", "search", "cache", "deps", "api", "ui", "docs", "ci", "perf", "i18n", "auth"]

    static func build(options: SandboxOptions, start: Date) -> SandboxWorld {
        var random = SandboxRandom(seed: options.seed)
        let user = SandboxUser(uuid: random.uuid(), accountID: "5570\(random.int(10...99)):\(random.uuid().dropFirst().dropLast())",
                               nickname: "sandbox-user", displayName: "Sandbox User", email: "sandbox@example.com",
                               createdOn: start.addingTimeInterval(-400 * 86_400))
        var world = SandboxWorld(user: user, seed: options.seed)
        let workspaceNames = ["Acme Corp", "Globex", "Initech", "Umbrella Labs", "Stark Industries", "Wayne Enterprises",
                              "Hooli", "Pied Piper", "Vandelay Imports", "Soylent 株式会社"]
        for w in 0..<options.workspaces {
            let base = workspaceNames[w % workspaceNames.count]
            let slug = base.lowercased().filter { $0.isLetter && $0.isASCII || $0 == " " }.replacingOccurrences(of: " ", with: "-")
                + (w >= workspaceNames.count ? "-\(w / workspaceNames.count + 1)" : "")
            var workspace = SandboxWorkspace(uuid: random.uuid(), slug: slug, name: w >= workspaceNames.count ? "\(base) \(w / workspaceNames.count + 1)" : base,
                                             isPrivate: true, isAdmin: options.administersAll || w % 3 != 2, createdOn: start.addingTimeInterval(-Double(300 + w) * 86_400))
            for r in 0..<options.reposPerWorkspace {
                let repository = makeRepository(index: r, workspace: workspace, options: options, start: start, random: &random)
                workspace.repositories.append(repository.slug)
                world.repositories[repository.fullName] = repository
            }
            world.workspaceOrder.append(slug)
            world.workspaces[slug] = workspace
        }
        return world
    }

    /// GitHub's part of the world, from its own stream of the seed: the user's own namespace
    /// (`sandbox-user`), organizations (the user administers every one but the third), and from
    /// the fourth owner on another user whose repositories the user collaborates on.
    static func buildGitHub(options: SandboxOptions, start: Date) -> SandboxWorld {
        var random = SandboxRandom(seed: options.seed ^ 0x6769_7468_7562)
        let user = SandboxUser(uuid: random.uuid(), accountID: String(random.int(1_000_000...9_999_999)), nickname: "sandbox-user",
                               displayName: "Sandbox User", email: "sandbox@example.com", createdOn: start.addingTimeInterval(-400 * 86_400))
        var world = SandboxWorld(user: user, seed: options.seed)
        let organizations = ["acme-corp", "globex", "initech", "umbrella-labs", "stark-industries", "hooli", "pied-piper", "vandelay"]
        var repositoryNumber = 100_000
        for w in 0..<options.workspaces {
            let slug: String
            let isUser: Bool
            if w == 0 {
                (slug, isUser) = (user.nickname, true)
            } else if w == 3 {
                (slug, isUser) = ("octo-friend", true)
            } else {
                let index = w - (w > 3 ? 2 : 1)
                slug = organizations[index % organizations.count] + (index >= organizations.count ? "-\(index / organizations.count + 1)" : "")
                isUser = false
            }
            var workspace = SandboxWorkspace(uuid: random.uuid(), slug: slug, name: slug == user.nickname ? user.displayName : slug.capitalized,
                                             isPrivate: false, isAdmin: options.administersAll || w == 0 || (w != 3 && w % 3 != 2),
                                             createdOn: start.addingTimeInterval(-Double(300 + w) * 86_400))
            workspace.isUser = isUser
            workspace.number = 20_000_000 + w
            for r in 0..<options.reposPerWorkspace {
                var repository = makeRepository(index: r, workspace: workspace, options: options, start: start, random: &random)
                repositoryNumber += 1
                repository.number = repositoryNumber
                workspace.repositories.append(repository.slug)
                world.repositories[repository.fullName] = repository
            }
            world.workspaceOrder.append(slug)
            world.workspaces[slug] = workspace
        }
        return world
    }

    /// GitLab's part of the world, from its own stream of the seed: the user's namespace
    /// (`sandbox-user`), then groups and their subgroups by full path (`acme-corp/platform/infra`);
    /// the user is a member of every one, maintainer of most.
    /// A public git host: nobody signs in; its repositories are the real demo ones.
    static func buildPublicGit(options: SandboxOptions, start: Date) -> SandboxWorld {
        let user = SandboxUser(uuid: "{00000000-0000-4000-8000-000000000017}", accountID: "0", nickname: "anonymous",
                               displayName: "Anonymous", email: "", createdOn: start)
        return SandboxWorld(user: user, seed: options.seed)
    }

    static func buildGitLab(options: SandboxOptions, start: Date) -> SandboxWorld {
        var random = SandboxRandom(seed: options.seed ^ 0x6769_746C_6162)
        let user = SandboxUser(uuid: random.uuid(), accountID: String(random.int(1_000...999_999)), nickname: "sandbox-user",
                               displayName: "Sandbox User", email: "sandbox@example.com", createdOn: start.addingTimeInterval(-400 * 86_400))
        var world = SandboxWorld(user: user, seed: options.seed)
        let paths = ["acme-corp", "acme-corp/platform", "acme-corp/platform/infra", "globex", "globex/tools", "initech",
                     "umbrella-labs", "umbrella-labs/research", "hooli", "pied-piper", "pied-piper/compression"]
        var repositoryNumber = 3_000
        for w in 0..<options.workspaces {
            let slug: String
            if w == 0 {
                slug = user.nickname
            } else {
                let index = w - 1
                let path = paths[index % paths.count]
                let round = index / paths.count
                // Past the list, the same shapes again under numbered top-level groups.
                slug = round == 0 ? path : path.split(separator: "/").enumerated().map { $0.offset == 0 ? "\($0.element)-\(round + 1)" : String($0.element) }
                    .joined(separator: "/")
            }
            let last = String(slug.split(separator: "/").last!)
            var workspace = SandboxWorkspace(uuid: random.uuid(), slug: slug,
                                             name: w == 0 ? user.displayName : last.split(separator: "-").map { $0.capitalized }.joined(separator: " "),
                                             isPrivate: true, isAdmin: options.administersAll || w == 0 || w % 3 != 2, createdOn: start.addingTimeInterval(-Double(300 + w) * 86_400))
            workspace.isUser = w == 0
            workspace.number = 60 + w
            for r in 0..<options.reposPerWorkspace {
                var repository = makeRepository(index: r, workspace: workspace, options: options, start: start, random: &random)
                repositoryNumber += 1
                repository.number = repositoryNumber
                repository.activityAt = repository.updatedOn
                workspace.repositories.append(repository.slug)
                world.repositories[repository.fullName] = repository
            }
            world.workspaceOrder.append(slug)
            world.workspaces[slug] = workspace
        }
        return world
    }

    static let repoWords = ["api", "web", "worker", "billing", "auth", "search", "mobile", "infra", "docs", "gateway",
                            "scheduler", "ledger", "notifier", "analytics", "cli"]

    static func makeRepository(index: Int, workspace: SandboxWorkspace, options: SandboxOptions, start: Date,
                               random: inout SandboxRandom) -> SandboxRepository {
        let word = repoWords[index % repoWords.count]
        let slug = index < repoWords.count ? word : "\(word)-\(index / repoWords.count + 1)"
        let created = start.addingTimeInterval(-Double(random.int(30...300)) * 86_400)
        let role = options.administersAll ? "admin" : workspace.isAdmin ? (index % 4 == 3 ? "contributor" : "admin") : (index % 2 == 0 ? "member" : "contributor")
        var repository = SandboxRepository(
            uuid: random.uuid(), workspace: workspace.slug, slug: slug, name: index < repoWords.count ? word.capitalized : "\(word.capitalized) \(index / repoWords.count + 1)",
            description: index % 5 == 0 ? random.pick(hostile) : "The \(word) service", language: random.pick(["swift", "go", "python", "typescript", "rust"]),
            isPrivate: index % 6 != 0, role: role, createdOn: created, updatedOn: created, mainBranch: index % 9 == 4 ? "master" : "main")

        // Main's history, oldest first, then branches forking from it.
        var time = created
        var head: String?
        let mainLength = random.int(6...14)
        var mainCommits: [String] = []
        for _ in 0..<mainLength {
            time = time.addingTimeInterval(Double(random.int(600...86_400)))
            let commit = makeCommit(parent: head, date: time, random: &random)
            repository.commits[commit.hash] = commit
            head = commit.hash
            mainCommits.append(commit.hash)
        }
        repository.branches[repository.mainBranch] = head!
        // A few repositories get more than 100 branches, so pagination matters.
        let branchCount = options.largeRepositories && index % 7 == 3 ? options.branchesPerRepo + 125 : options.branchesPerRepo
        var number = 0
        while repository.branches.count < branchCount {
            number += 1
            let name = branchName(number: number, random: &random)
            guard repository.branches[name] == nil else { continue }
            var parent = random.pick(mainCommits)
            var date = repository.commits[parent]!.date
            for _ in 0..<random.int(1...3) {
                date = date.addingTimeInterval(Double(random.int(60...7200)))
                let commit = makeCommit(parent: parent, date: min(date, start), random: &random)
                repository.commits[commit.hash] = commit
                parent = commit.hash
            }
            repository.branches[name] = parent
        }
        repository.updatedOn = repository.commits.values.map(\.date).max() ?? created
        return repository
    }

    static func branchName(number: Int, random: inout SandboxRandom) -> String {
        switch number % 11 {
        case 0: return "release/\(random.int(1...4)).\(random.int(0...20))"
        case 1: return "feature/\(random.pick(branchWords))-\(number)"
        case 2: return "bugfix/\(random.pick(branchWords))/issue-\(random.int(100...999))"
        case 3: return "develop-\(number)"
        case 4: return "hotfix-\(number)"
        case 5: return "ユーザー/\(random.pick(branchWords))-\(number)"
        case 6: return "dependabot/npm_and_yarn/\(random.pick(branchWords))-\(random.int(1...9)).\(random.int(0...9)).\(random.int(0...9))"
        case 7: return "exp/🧪-\(random.pick(branchWords))-\(number)"
        default: return "\(random.pick(["alice", "bob", "carol", "dave"]))/\(random.pick(branchWords))-\(number)"
        }
    }

    static func makeCommit(parent: String?, date: Date, random: inout SandboxRandom) -> SandboxCommit {
        let subject: String
        if random.chance(0.08) { subject = random.pick(hostile) } else { subject = random.pick(subjects) }
        let body = random.chance(0.4) ? "\n\nDetails:\n- \(random.pick(subjects).lowercased())\n- refs #\(random.int(1...500))\n" : "\n"
        return SandboxCommit(hash: random.hash(), parents: parent.map { [$0] } ?? [], author: random.pick(authors),
                             date: date, message: subject + body)
    }
}
