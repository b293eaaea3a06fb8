#include "malloc_tuning.h"

// Any libc header defines __GLIBC__ on glibc; test it only after one.
#include <stdlib.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

int slw_malloc_keep_freed_memory(int trim_threshold, int top_pad, int mmap_threshold) {
#if defined(__GLIBC__)
    return mallopt(M_TRIM_THRESHOLD, trim_threshold) == 1
        && mallopt(M_TOP_PAD, top_pad) == 1
        && mallopt(M_MMAP_THRESHOLD, mmap_threshold) == 1;
#else
    (void)trim_threshold; (void)top_pad; (void)mmap_threshold;
    return 0;
#endif
}
