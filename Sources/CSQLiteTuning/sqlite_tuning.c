#include "sqlite_tuning.h"
#include <sqlite3.h>

int slw_sqlite_disable_memstatus(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int slw_sqlite_set_lookaside(void *connection, int size, int count) {
    return sqlite3_db_config((sqlite3 *)connection, SQLITE_DBCONFIG_LOOKASIDE, (void *)0, size, count);
}
