#ifndef SLIPWAY_CSPAWN_H
#define SLIPWAY_CSPAWN_H

#include <spawn.h>

/// Adds "close every descriptor from `lowest` up" to a spawn's file actions, so a child (a build
/// step, a service, a tmux server in tests) inherits none of the parent's sockets, database
/// files or pipes. glibc declares it only under _GNU_SOURCE, which Swift's Glibc module lacks.
int slw_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int lowest);

/// A file's mode (type and permission bits) from stat(2), or lstat(2) when `follow_links` is 0;
/// -1 with errno set when it cannot be read. Swift reaches `struct stat` through whichever clang
/// module included <sys/stat.h> first, which MemberImportVisibility then demands be imported:
/// asking here keeps that out of Swift.
long slw_file_mode(const char *path, int follow_links);

#endif
