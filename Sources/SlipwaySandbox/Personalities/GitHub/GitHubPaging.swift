import Foundation

/// GitHub's page-number pagination: `per_page` (default 30, at most 100) and `page`, with a `Link`
/// header naming `next`, `last`, `first` and `prev` as absolute URLs built from the request's own.
enum GitHubPaging {
    static func page(_ items: [Any], request: SandboxRequest) -> (body: [Any], link: String?) {
        let perPage = min(100, max(1, Int(request.query["per_page"]?.first ?? "") ?? 30))
        let page = max(1, Int(request.query["page"]?.first ?? "") ?? 1)
        let start = (page - 1) * perPage
        let slice = start < items.count ? Array(items[start..<min(items.count, start + perPage)]) : []
        let last = max(1, (items.count + perPage - 1) / perPage)
        var links: [String] = []
        if page < last { links += [link(request, page: page + 1, rel: "next"), link(request, page: last, rel: "last")] }
        if page > 1 { links += [link(request, page: 1, rel: "first"), link(request, page: page - 1, rel: "prev")] }
        return (slice, links.isEmpty ? nil : links.joined(separator: ", "))
    }

    private static func link(_ request: SandboxRequest, page: Int, rel: String) -> String {
        var components = request.url
        var items = (components.queryItems ?? []).filter { $0.name != "page" }
        items.append(URLQueryItem(name: "page", value: String(page)))
        components.queryItems = items
        return "<\(components.string ?? "")>; rel=\"\(rel)\""
    }
}
