#ifndef SLIPWAY_MALLOC_TUNING_H
#define SLIPWAY_MALLOC_TUNING_H

/// glibc's allocator settings (mallopt lives in <malloc.h>, which Swift's Glibc module leaves
/// out). Keeps up to `trim_threshold` bytes of freed memory instead of handing it back to the
/// kernel, grows the heap `top_pad` bytes at a time, and serves allocations below
/// `mmap_threshold` from the heap rather than from mappings of their own. Returns 1 when glibc
/// took all three, 0 otherwise (and on other C libraries, where it changes nothing).
int slw_malloc_keep_freed_memory(int trim_threshold, int top_pad, int mmap_threshold);

#endif
