#define _GNU_SOURCE
#include <spawn.h>
#include <sys/stat.h>
#include "cspawn.h"

int slw_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int lowest) {
    return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
}

long slw_file_mode(const char *path, int follow_links) {
    struct stat info;
    int result = follow_links ? stat(path, &info) : lstat(path, &info);
    return result == 0 ? (long)info.st_mode : -1;
}
