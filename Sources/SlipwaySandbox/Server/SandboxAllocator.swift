import CMallocTuning

/// The standalone sandbox answers pages of hundreds of kilobytes, built from tens of thousands of
/// small objects, again and again. glibc's defaults hand freed memory back to the kernel after
/// each one (and serve big buffers from fresh mappings), so every page faults its memory in anew
/// — about a tenth of the sandbox's CPU in an initial sync. Keeping freed memory for the next
/// page costs only resident memory, which a test server has to spare.
public enum SandboxAllocator {
    /// Whether glibc took the settings (false elsewhere, where nothing changes).
    @discardableResult
    public static func keepFreedMemory() -> Bool {
        slw_malloc_keep_freed_memory(512 << 20, 64 << 20, 32 << 20) == 1
    }
}
