/// A value an adapter instance fetches at most once (one sync cycle's listing): concurrent
/// callers share the one fetch; a failed fetch is forgotten, so a later caller tries again.
actor FetchedOnce<Value: Sendable> {
    private var task: Task<Value, any Error>?

    func value(_ fetch: @escaping @Sendable () async throws -> Value) async throws -> Value {
        if let task { return try await task.value }
        let task = Task { try await fetch() }
        self.task = task
        do { return try await task.value } catch {
            self.task = nil
            throw error
        }
    }
}
