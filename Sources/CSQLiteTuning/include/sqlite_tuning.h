#ifndef SLIPWAY_SQLITE_TUNING_H
#define SLIPWAY_SQLITE_TUNING_H

/// SQLite's process-wide and per-connection settings that are variadic C calls (sqlite3_config,
/// sqlite3_db_config), which Swift cannot make. The connection is passed as an opaque pointer so
/// this header needs no sqlite3.h of its own.

/// Turns off SQLite's allocation statistics, which take a global mutex on every malloc and
/// free. Only possible before SQLite initializes (before the first connection opens); later it
/// changes nothing and returns SQLITE_MISUSE (21).
int slw_sqlite_disable_memstatus(void);

/// Gives a connection `count` lookaside slots of `size` bytes for its small, short-lived
/// allocations (SQLite's default is 100 of 1,200 bytes). Returns SQLITE_BUSY (5) when the
/// connection's lookaside is in use; nothing changes then.
int slw_sqlite_set_lookaside(void *connection, int size, int count);

#endif
