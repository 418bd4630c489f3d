/* database.c — FDBDatabase: create, options, destroy (see database.h). */
#include "client/database.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/location.h"
#include "util/timer.h"
#include "client/options.h"

int database_open_dir(const char *dir, FDBDatabase **out) {
    FDBDatabase *d = calloc(1, sizeof *d);
    if (!d) return FDB_ERR_INTERNAL_ERROR;
    char detail[LOCATION_DETAIL_MAX];
    detail[0] = 0;
    int err = store_open(dir, &d->s, detail, sizeof detail);
    if (err) {
        set_last_error_detail("%s", detail[0] ? detail : dir);
        free(d);
        return err;
    }
    atomic_init(&d->refs, 1);
    d->defaults.timeout_ms = 0;
    d->defaults.retry_limit = -1;
    d->defaults.max_retry_delay_ms = DEFAULT_MAX_RETRY_DELAY_MS;
    d->defaults.size_limit = TRANSACTION_SIZE_DEFAULT;
    d->max_watches = DEFAULT_MAX_WATCHES;
    *out = d;
    return 0;
}

void database_retain(FDBDatabase *d) { atomic_fetch_add(&d->refs, 1); }

_Thread_local int on_store_thread;

static void database_close(void *ctx) {
    FDBDatabase *d = ctx;
    if (d->s) store_close(d->s);
    free(d->cluster_file_path);
    free(d->connection_string);
    free(d);
}

void database_release(FDBDatabase *d) {
    if (atomic_fetch_sub(&d->refs, 1) != 1) return;
    if (on_store_thread)
        timer_after(0, database_close, d);
    else
        database_close(d);
}

/* Name the database as the special keys \xff\xff/cluster_file_path and
 * \xff\xff/connection_string show it: the file (or directory) it was opened
 * with, absolute, and "embedded:<data directory>". */
static int describe(FDBDatabase *d, const char *cluster_file, const char *dir) {
    char abs[PATH_MAX];
    if (!cluster_file || !*cluster_file) cluster_file = getenv("FDB_CLUSTER_FILE");
    if (!cluster_file) cluster_file = "";
    if (*cluster_file && realpath(cluster_file, abs)) cluster_file = abs;
    size_t n = strlen(dir) + sizeof "embedded:";
    d->cluster_file_path = strdup(cluster_file);
    d->connection_string = malloc(n);
    if (!d->cluster_file_path || !d->connection_string) return FDB_ERR_INTERNAL_ERROR;
    snprintf(d->connection_string, n, "embedded:%s", dir);
    return 0;
}

/* FoundationDB's client returns a database even when its cluster file is
 * missing (1515) or invalid (2104): the error comes with the first
 * operation of each of its transactions. */
static int failed(int err, FDBDatabase **out) {
    FDBDatabase *d = calloc(1, sizeof *d);
    if (!d) return FDB_ERR_INTERNAL_ERROR;
    atomic_init(&d->refs, 1);
    d->open_err = err;
    d->defaults.retry_limit = -1;
    d->defaults.max_retry_delay_ms = DEFAULT_MAX_RETRY_DELAY_MS;
    d->defaults.size_limit = TRANSACTION_SIZE_DEFAULT;
    d->max_watches = DEFAULT_MAX_WATCHES;
    *out = d;
    return 0;
}

/* The cluster-file error a database carries (0 if none): lets a driver
 * report it at open (engine-only). */
FDB_EXPORT int found_engine_database_error(FDBDatabase *d) { return d ? d->open_err : 0; }

static int database_open(const char *cluster_file, const char *dir, FDBDatabase **out) {
    FDBDatabase *d = NULL;
    int err = database_open_dir(dir, &d);
    if (!err && (err = describe(d, cluster_file, dir))) database_release(d);
    if (!err) *out = d;
    return err;
}

FDB_EXPORT fdb_error_t fdb_create_database(const char *cluster_file_path, FDBDatabase **out_database) {
    if (!api_version_selected()) return FDB_ERR_API_VERSION_UNSET;
    set_last_error_detail("%s", "");
    char dir[PATH_MAX];
    int err = location_from_cluster_file(cluster_file_path, dir, sizeof dir);
    if (err) return failed(err, out_database);
    return database_open(cluster_file_path, dir, out_database);
}

FDB_EXPORT fdb_error_t fdb_create_database_from_connection_string(const char *connection_string,
                                                                  FDBDatabase **out_database) {
    if (!api_version_selected()) return FDB_ERR_API_VERSION_UNSET;
    set_last_error_detail("%s", "");
    char dir[PATH_MAX];
    int err = location_from_connection_string(connection_string, dir, sizeof dir);
    if (err) return failed(err, out_database);
    return database_open(NULL, dir, out_database);
}

FDB_EXPORT void fdb_database_destroy(FDBDatabase *d) {
    if (d) database_release(d);
}

FDB_EXPORT fdb_error_t fdb_database_set_option(FDBDatabase *d, int option, const uint8_t *value,
                                               int value_length) {
    return database_option(d, option, value, value_length);
}

FDB_EXPORT double fdb_database_get_main_thread_busyness(FDBDatabase *db) {
    (void)db;
    return 0.0;
}
