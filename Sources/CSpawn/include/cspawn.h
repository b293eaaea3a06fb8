#ifndef SLIPWAY_CSPAWN_H
#define SLIPWAY_CSPAWN_H

#include <spawn.h>

/// Adds "close every descriptor from `lowest` up" to a spawn's file actions, so a child (a build
/// step, a service, a tmux server in tests) inherits none of the parent's sockets, database
/// files or pipes. glibc declares it only under _GNU_SOURCE, which Swift's Glibc module lacks.
int slw_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int lowest);

#endif
