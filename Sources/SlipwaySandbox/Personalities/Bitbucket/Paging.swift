import Foundation

/// Bitbucket's two pagination styles.
enum Paging {
    /// `pagelen` is clamped to 10…100 globally; endpoints have their own defaults.
    static func pagelen(_ query: [String: [String]], default fallback: Int) -> Int {
        guard let text = query["pagelen"]?.first, let value = Int(text) else { return fallback }
        return min(100, max(10, value))
    }

    /// List endpoints: `size`, `page`, `pagelen`, `next`/`previous` as absolute URLs built from the
    /// request's own URL with `page` replaced.
    static func listPage(items: [[String: Any]], query: [String: [String]], requestURL: URLComponents, defaultPagelen: Int) -> [String: Any] {
        let pagelen = pagelen(query, default: defaultPagelen)
        let page = max(1, Int(query["page"]?.first ?? "1") ?? 1)
        let start = (page - 1) * pagelen
        let slice = start < items.count ? Array(items[start..<min(items.count, start + pagelen)]) : []
        var body: [String: Any] = ["pagelen": pagelen, "page": page, "size": items.count, "values": slice]
        if start + pagelen < items.count { body["next"] = url(requestURL, page: page + 1) }
        if page > 1 { body["previous"] = url(requestURL, page: page - 1) }
        return body
    }

    static func url(_ base: URLComponents, page: Int) -> String {
        var components = base
        var items = (components.queryItems ?? []).filter { $0.name != "page" }
        items.append(URLQueryItem(name: "page", value: String(page)))
        components.queryItems = items
        return components.string ?? ""
    }

    /// Iterator pagination (commits): no `size`, no `page`; `next` carries an opaque cursor.
    static func iteratorPage(items: [[String: Any]], query: [String: [String]], requestURL: URLComponents, defaultPagelen: Int) -> [String: Any] {
        let pagelen = pagelen(query, default: defaultPagelen)
        let offset = query["cursor"]?.first.flatMap(Cursor.decode) ?? 0
        let slice = offset < items.count ? Array(items[offset..<min(items.count, offset + pagelen)]) : []
        var body: [String: Any] = ["pagelen": pagelen, "values": slice]
        if offset + pagelen < items.count {
            var components = requestURL
            var queryItems = (components.queryItems ?? []).filter { $0.name != "cursor" && $0.name != "page" }
            queryItems.append(URLQueryItem(name: "cursor", value: Cursor.encode(offset + pagelen)))
            components.queryItems = queryItems
            body["next"] = components.string
        }
        return body
    }

    /// Opaque to clients: the offset, obscured the way real cursors look (a hex blob).
    enum Cursor {
        static func encode(_ offset: Int) -> String {
            String(format: "%08x", UInt32(truncatingIfNeeded: offset) ^ 0x5A17_C0DE) + "c0ffee"
        }

        static func decode(_ text: String) -> Int? {
            guard text.count == 14, text.hasSuffix("c0ffee"), let raw = UInt32(text.prefix(8), radix: 16) else { return nil }
            return Int(raw ^ 0x5A17_C0DE)
        }
    }
}

/// `fields=`: Bitbucket's partial responses. An explicit list keeps only those dotted paths
/// (`values.name,values.target.hash,next`); `-path` removes, `+path` is a no-op here (every field
/// is already present); `*` matches any member.
enum FieldFilter {
    static func apply(_ spec: String?, to object: [String: Any]) -> [String: Any] {
        guard let spec, !spec.isEmpty else { return object }
        let parts = spec.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let removals = parts.filter { $0.hasPrefix("-") }.map { $0.dropFirst().split(separator: ".").map(String.init) }
        let includes = parts.filter { !$0.hasPrefix("-") && !$0.hasPrefix("+") }.map { $0.split(separator: ".").map(String.init) }
        var result: Any = object
        if !includes.isEmpty { result = keep(result, paths: includes) }
        for path in removals { result = remove(result, path: path[...]) }
        return result as? [String: Any] ?? [:]
    }

    private static func keep(_ value: Any, paths: [[String]]) -> Any {
        if paths.contains(where: \.isEmpty) { return value }
        if let array = value as? [Any] { return array.map { keep($0, paths: paths) } }
        guard let object = value as? [String: Any] else { return value }
        var out: [String: Any] = [:]
        for (key, child) in object {
            let rest = paths.filter { $0.first == key || $0.first == "*" }.map { Array($0.dropFirst()) }
            if !rest.isEmpty { out[key] = keep(child, paths: rest) }
        }
        return out
    }

    private static func remove(_ value: Any, path: ArraySlice<String>) -> Any {
        guard let first = path.first else { return value }
        if let array = value as? [Any] { return array.map { remove($0, path: path) } }
        guard var object = value as? [String: Any] else { return value }
        if path.count == 1 {
            if first == "*" { object.removeAll() } else { object[first] = nil }
            return object
        }
        for key in object.keys where key == first || first == "*" {
            object[key] = remove(object[key]!, path: path.dropFirst())
        }
        return object
    }
}
