/*
 * database.h — FDBDatabase: one open store plus the defaults its
 * transactions start with.
 */
#ifndef FOUND_ENGINE_DATABASE_H
#define FOUND_ENGINE_DATABASE_H

#include <stdatomic.h>
#include <stdint.h>
#include "util/base.h"
#include "storage/store.h"

/* Options a transaction starts with (set per database, per transaction). */
typedef struct tx_defaults {
    int64_t timeout_ms;  /* 0 = none */
    int64_t retry_limit; /* -1 = unlimited */
    int64_t max_retry_delay_ms;
    int64_t size_limit;
    int snapshot_ryw_disable;
} tx_defaults;

struct FDB_database {
    store *s;        /* NULL when open_err */
    int open_err;    /* the cluster file's error, reported by every
                                  * transaction's operations (FoundationDB defers it) */
    atomic_int refs; /* the caller's + one per live transaction */
    tx_defaults defaults;
    int max_watches;
    /* What \xff\xff/cluster_file_path and /connection_string show. */
    char *cluster_file_path;
    char *connection_string;
};

/* Open the database in data directory `dir` (already resolved). */
int database_open_dir(const char *dir, FDBDatabase **out);
void database_retain(FDBDatabase *d);
void database_release(FDBDatabase *d);

#endif
