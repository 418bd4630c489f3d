/* database.c — FDBDatabase: create, options, destroy (see database.h). */
#include "client/database.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

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

void database_retain(FDBDatabase *d) {
    atomic_fetch_add(&d->refs, 1);
}

_Thread_local int on_store_thread;

static void database_close(void *ctx) {
    FDBDatabase *d = ctx;
    store_close(d->s);
    free(d);
}

void database_release(FDBDatabase *d) {
    if (atomic_fetch_sub(&d->refs, 1) != 1) return;
    if (on_store_thread) timer_after(0, database_close, d);
    else database_close(d);
}

FDB_EXPORT fdb_error_t fdb_create_database(const char *cluster_file_path, FDBDatabase **out_database) {
    if (!api_version_selected()) return FDB_ERR_API_VERSION_UNSET;
    set_last_error_detail("%s", "");
    char dir[PATH_MAX];
    int err = location_from_cluster_file(cluster_file_path, dir, sizeof dir);
    if (err) return err;
    return database_open_dir(dir, out_database);
}

FDB_EXPORT fdb_error_t fdb_create_database_from_connection_string(const char *connection_string,
                                                                  FDBDatabase **out_database) {
    if (!api_version_selected()) return FDB_ERR_API_VERSION_UNSET;
    set_last_error_detail("%s", "");
    char dir[PATH_MAX];
    int err = location_from_connection_string(connection_string, dir, sizeof dir);
    if (err) return err;
    return database_open_dir(dir, out_database);
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
