/*
 * api_unsupported.c — the parts of the C API an embedded engine has no
 * counterpart for. Each returns a documented error (docs/engine.md):
 *   tenants                      → 2136 tenants_disabled
 *   blob granules                → 2108 unsupported_operation
 *   cluster administration       → 2108 unsupported_operation
 * plus the legacy FDBCluster objects (API < 610), which still work.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/database.h"
#include "client/future.h"
#include "client/location.h"

#define UNUSED(x)              (void)(x)
#define FOUND_PROTOCOL_VERSION 0x0FDB00B073000000ULL /* FoundationDB 7.3 */

static FDBFuture *unsupported(void) { return future_error(FDB_ERR_UNSUPPORTED_OPERATION); }

/* ---- tenants ---- */

FDB_EXPORT fdb_error_t fdb_database_open_tenant(FDBDatabase *d, const uint8_t *name, int name_length,
                                                FDBTenant **out_tenant) {
    UNUSED(d);
    UNUSED(name);
    UNUSED(name_length);
    *out_tenant = NULL;
    return FDB_ERR_TENANTS_DISABLED;
}

FDB_EXPORT fdb_error_t fdb_tenant_create_transaction(FDBTenant *tenant, FDBTransaction **out) {
    UNUSED(tenant);
    *out = NULL;
    return FDB_ERR_TENANTS_DISABLED;
}

FDB_EXPORT void fdb_tenant_destroy(FDBTenant *tenant) { UNUSED(tenant); }

FDB_EXPORT FDBFuture *fdb_tenant_get_id(FDBTenant *tenant) {
    UNUSED(tenant);
    return future_error(FDB_ERR_TENANTS_DISABLED);
}

FDB_EXPORT FDBFuture *fdb_tenant_purge_blob_granules(FDBTenant *t, const uint8_t *b, int bl, const uint8_t *e,
                                                     int el, int64_t v, fdb_bool_t force) {
    UNUSED(t);
    UNUSED(b);
    UNUSED(bl);
    UNUSED(e);
    UNUSED(el);
    UNUSED(v);
    UNUSED(force);
    return future_error(FDB_ERR_TENANTS_DISABLED);
}

FDB_EXPORT FDBFuture *fdb_tenant_wait_purge_granules_complete(FDBTenant *t, const uint8_t *k, int kl) {
    UNUSED(t);
    UNUSED(k);
    UNUSED(kl);
    return future_error(FDB_ERR_TENANTS_DISABLED);
}

FDB_EXPORT FDBFuture *fdb_tenant_blobbify_range(FDBTenant *t, const uint8_t *b, int bl, const uint8_t *e,
                                                int el) {
    UNUSED(t);
    UNUSED(b);
    UNUSED(bl);
    UNUSED(e);
    UNUSED(el);
    return future_error(FDB_ERR_TENANTS_DISABLED);
}

FDB_EXPORT FDBFuture *fdb_tenant_blobbify_range_blocking(FDBTenant *t, const uint8_t *b, int bl,
                                                         const uint8_t *e, int el) {
    UNUSED(t);
    UNUSED(b);
    UNUSED(bl);
    UNUSED(e);
    UNUSED(el);
    return future_error(FDB_ERR_TENANTS_DISABLED);
}

FDB_EXPORT FDBFuture *fdb_tenant_unblobbify_range(FDBTenant *t, const uint8_t *b, int bl, const uint8_t *e,
                                                  int el) {
    UNUSED(t);
    UNUSED(b);
    UNUSED(bl);
    UNUSED(e);
    UNUSED(el);
    return future_error(FDB_ERR_TENANTS_DISABLED);
}

FDB_EXPORT FDBFuture *fdb_tenant_list_blobbified_ranges(FDBTenant *t, const uint8_t *b, int bl,
                                                        const uint8_t *e, int el, int limit) {
    UNUSED(t);
    UNUSED(b);
    UNUSED(bl);
    UNUSED(e);
    UNUSED(el);
    UNUSED(limit);
    return future_error(FDB_ERR_TENANTS_DISABLED);
}

FDB_EXPORT FDBFuture *fdb_tenant_verify_blob_range(FDBTenant *t, const uint8_t *b, int bl, const uint8_t *e,
                                                   int el, int64_t v) {
    UNUSED(t);
    UNUSED(b);
    UNUSED(bl);
    UNUSED(e);
    UNUSED(el);
    UNUSED(v);
    return future_error(FDB_ERR_TENANTS_DISABLED);
}

FDB_EXPORT FDBFuture *fdb_tenant_flush_blob_range(FDBTenant *t, const uint8_t *b, int bl, const uint8_t *e,
                                                  int el, fdb_bool_t compact, int64_t v) {
    UNUSED(t);
    UNUSED(b);
    UNUSED(bl);
    UNUSED(e);
    UNUSED(el);
    UNUSED(compact);
    UNUSED(v);
    return future_error(FDB_ERR_TENANTS_DISABLED);
}

/* ---- database: blob granules and cluster administration ---- */

FDB_EXPORT FDBFuture *fdb_database_purge_blob_granules(FDBDatabase *d, const uint8_t *b, int bl,
                                                       const uint8_t *e, int el, int64_t v,
                                                       fdb_bool_t force) {
    UNUSED(d);
    UNUSED(b);
    UNUSED(bl);
    UNUSED(e);
    UNUSED(el);
    UNUSED(v);
    UNUSED(force);
    return unsupported();
}

FDB_EXPORT FDBFuture *fdb_database_wait_purge_granules_complete(FDBDatabase *d, const uint8_t *k, int kl) {
    UNUSED(d);
    UNUSED(k);
    UNUSED(kl);
    return unsupported();
}

FDB_EXPORT FDBFuture *fdb_database_blobbify_range(FDBDatabase *d, const uint8_t *b, int bl, const uint8_t *e,
                                                  int el) {
    UNUSED(d);
    UNUSED(b);
    UNUSED(bl);
    UNUSED(e);
    UNUSED(el);
    return unsupported();
}

FDB_EXPORT FDBFuture *fdb_database_blobbify_range_blocking(FDBDatabase *d, const uint8_t *b, int bl,
                                                           const uint8_t *e, int el) {
    UNUSED(d);
    UNUSED(b);
    UNUSED(bl);
    UNUSED(e);
    UNUSED(el);
    return unsupported();
}

FDB_EXPORT FDBFuture *fdb_database_unblobbify_range(FDBDatabase *d, const uint8_t *b, int bl,
                                                    const uint8_t *e, int el) {
    UNUSED(d);
    UNUSED(b);
    UNUSED(bl);
    UNUSED(e);
    UNUSED(el);
    return unsupported();
}

FDB_EXPORT FDBFuture *fdb_database_list_blobbified_ranges(FDBDatabase *d, const uint8_t *b, int bl,
                                                          const uint8_t *e, int el, int limit) {
    UNUSED(d);
    UNUSED(b);
    UNUSED(bl);
    UNUSED(e);
    UNUSED(el);
    UNUSED(limit);
    return unsupported();
}

FDB_EXPORT FDBFuture *fdb_database_verify_blob_range(FDBDatabase *d, const uint8_t *b, int bl,
                                                     const uint8_t *e, int el, int64_t v) {
    UNUSED(d);
    UNUSED(b);
    UNUSED(bl);
    UNUSED(e);
    UNUSED(el);
    UNUSED(v);
    return unsupported();
}

FDB_EXPORT FDBFuture *fdb_database_flush_blob_range(FDBDatabase *d, const uint8_t *b, int bl,
                                                    const uint8_t *e, int el, fdb_bool_t compact, int64_t v) {
    UNUSED(d);
    UNUSED(b);
    UNUSED(bl);
    UNUSED(e);
    UNUSED(el);
    UNUSED(compact);
    UNUSED(v);
    return unsupported();
}

FDB_EXPORT FDBFuture *fdb_database_reboot_worker(FDBDatabase *d, const uint8_t *address, int address_length,
                                                 fdb_bool_t check, int duration) {
    UNUSED(d);
    UNUSED(address);
    UNUSED(address_length);
    UNUSED(check);
    UNUSED(duration);
    return unsupported();
}

FDB_EXPORT FDBFuture *fdb_database_force_recovery_with_data_loss(FDBDatabase *d, const uint8_t *dcid,
                                                                 int dcid_length) {
    UNUSED(d);
    UNUSED(dcid);
    UNUSED(dcid_length);
    return unsupported();
}

FDB_EXPORT FDBFuture *fdb_database_create_snapshot(FDBDatabase *d, const uint8_t *uid, int uid_length,
                                                   const uint8_t *cmd, int cmd_length) {
    UNUSED(d);
    UNUSED(uid);
    UNUSED(uid_length);
    UNUSED(cmd);
    UNUSED(cmd_length);
    return unsupported();
}

FDB_EXPORT FDBFuture *fdb_database_create_shared_state(FDBDatabase *d) {
    UNUSED(d);
    return unsupported();
}

FDB_EXPORT void fdb_database_set_shared_state(FDBDatabase *d, DatabaseSharedState *p) {
    UNUSED(d);
    UNUSED(p);
}

FDB_EXPORT FDBFuture *fdb_database_get_server_protocol(FDBDatabase *d, uint64_t expected_version) {
    UNUSED(d);
    UNUSED(expected_version);
    FDBFuture *f = future_new(FK_INT64);
    if (!f) return future_error(FDB_ERR_INTERNAL_ERROR);
    f->u.i64 = (int64_t)FOUND_PROTOCOL_VERSION;
    future_set_ready_fresh(f, 0);
    return f;
}

FDB_EXPORT FDBFuture *fdb_database_get_client_status(FDBDatabase *d) {
    UNUSED(d);
    static const char status[] =
        "{\"Healthy\":true,\"ClientVersion\":\"" FOUND_CLIENT_VERSION "\",\"Embedded\":true}";
    FDBFuture *f = future_new(FK_KEY);
    if (!f) return future_error(FDB_ERR_INTERNAL_ERROR);
    if (!future_reserve(f, sizeof status)) {
        future_set_ready_fresh(f, FDB_ERR_INTERNAL_ERROR);
        return f;
    }
    memcpy(f->buf, status, sizeof status - 1);
    f->buf_len = sizeof status - 1;
    future_set_ready_fresh(f, 0);
    return f;
}

/* ---- transaction: blob granules ---- */

FDB_EXPORT FDBFuture *fdb_transaction_get_blob_granule_ranges(FDBTransaction *tr, const uint8_t *b, int bl,
                                                              const uint8_t *e, int el, int limit) {
    UNUSED(tr);
    UNUSED(b);
    UNUSED(bl);
    UNUSED(e);
    UNUSED(el);
    UNUSED(limit);
    return unsupported();
}

FDB_EXPORT FDBResult *fdb_transaction_read_blob_granules(FDBTransaction *tr, const uint8_t *b, int bl,
                                                         const uint8_t *e, int el, int64_t bv, int64_t rv,
                                                         FDBReadBlobGranuleContext ctx) {
    UNUSED(tr);
    UNUSED(b);
    UNUSED(bl);
    UNUSED(e);
    UNUSED(el);
    UNUSED(bv);
    UNUSED(rv);
    UNUSED(ctx);
    return NULL;
}

FDB_EXPORT FDBFuture *fdb_transaction_read_blob_granules_start(FDBTransaction *tr, const uint8_t *b, int bl,
                                                               const uint8_t *e, int el, int64_t bv,
                                                               int64_t rv, int64_t *rv_out) {
    UNUSED(tr);
    UNUSED(b);
    UNUSED(bl);
    UNUSED(e);
    UNUSED(el);
    UNUSED(bv);
    UNUSED(rv);
    if (rv_out) *rv_out = -1;
    return unsupported();
}

FDB_EXPORT FDBResult *fdb_transaction_read_blob_granules_finish(FDBTransaction *tr, FDBFuture *f,
                                                                const uint8_t *b, int bl, const uint8_t *e,
                                                                int el, int64_t bv, int64_t rv,
                                                                FDBReadBlobGranuleContext *ctx) {
    UNUSED(tr);
    UNUSED(f);
    UNUSED(b);
    UNUSED(bl);
    UNUSED(e);
    UNUSED(el);
    UNUSED(bv);
    UNUSED(rv);
    UNUSED(ctx);
    return NULL;
}

FDB_EXPORT FDBFuture *fdb_transaction_read_blob_granules_description(FDBTransaction *tr, const uint8_t *b,
                                                                     int bl, const uint8_t *e, int el,
                                                                     int64_t bv, int64_t rv,
                                                                     int64_t *rv_out) {
    UNUSED(tr);
    UNUSED(b);
    UNUSED(bl);
    UNUSED(e);
    UNUSED(el);
    UNUSED(bv);
    UNUSED(rv);
    if (rv_out) *rv_out = -1;
    return unsupported();
}

FDB_EXPORT FDBFuture *fdb_transaction_summarize_blob_granules(FDBTransaction *tr, const uint8_t *b, int bl,
                                                              const uint8_t *e, int el, int64_t v,
                                                              int limit) {
    UNUSED(tr);
    UNUSED(b);
    UNUSED(bl);
    UNUSED(e);
    UNUSED(el);
    UNUSED(v);
    UNUSED(limit);
    return unsupported();
}

/* ---- blob granule results: never produced, so NULL is all they see ---- */

FDB_EXPORT void fdb_result_destroy(FDBResult *r) { UNUSED(r); }

FDB_EXPORT fdb_error_t fdb_result_get_keyvalue_array(FDBResult *r, const FDBKeyValue **out_kv, int *out_count,
                                                     fdb_bool_t *out_more) {
    UNUSED(r);
    *out_kv = NULL;
    *out_count = 0;
    *out_more = 0;
    return FDB_ERR_UNSUPPORTED_OPERATION;
}

FDB_EXPORT fdb_error_t fdb_result_get_bg_mutations_array(FDBResult *r, const FDBBGMutation **out,
                                                         int *count) {
    UNUSED(r);
    *out = NULL;
    *count = 0;
    return FDB_ERR_UNSUPPORTED_OPERATION;
}

FDB_EXPORT FDBResult *fdb_readbg_parse_snapshot_file(const uint8_t *data, int len,
                                                     const FDBBGTenantPrefix *tp,
                                                     const FDBBGEncryptionCtx *ec) {
    UNUSED(data);
    UNUSED(len);
    UNUSED(tp);
    UNUSED(ec);
    return NULL;
}

FDB_EXPORT FDBResult *fdb_readbg_parse_delta_file(const uint8_t *data, int len, const FDBBGTenantPrefix *tp,
                                                  const FDBBGEncryptionCtx *ec) {
    UNUSED(data);
    UNUSED(len);
    UNUSED(tp);
    UNUSED(ec);
    return NULL;
}

/* ---- legacy clusters (API < 610): a cluster is its cluster-file path ---- */

struct FDB_cluster {
    char path[PATH_MAX];
};

FDB_EXPORT FDBFuture *fdb_create_cluster(const char *cluster_file_path) {
    FDBFuture *f = future_new(FK_CLUSTER);
    FDBCluster *c = calloc(1, sizeof *c);
    if (!f || !c) {
        free(c);
        if (f) future_release(f);
        return future_error(FDB_ERR_INTERNAL_ERROR);
    }
    if (cluster_file_path) snprintf(c->path, sizeof c->path, "%s", cluster_file_path);
    f->u.ptr = c;
    future_set_ready_fresh(f, 0);
    return f;
}

FDB_EXPORT void fdb_cluster_destroy(FDBCluster *c) { free(c); }

FDB_EXPORT fdb_error_t fdb_cluster_set_option(FDBCluster *c, int option, const uint8_t *value,
                                              int value_length) {
    UNUSED(c);
    UNUSED(option);
    UNUSED(value);
    UNUSED(value_length);
    return 0;
}

/* A database nobody took from its future is the future's to close. */
static void drop_unclaimed_database(void *ctx) {
    FDBFuture *f = ctx;
    if (f->u.ptr) fdb_database_destroy((FDBDatabase *)f->u.ptr);
}

FDB_EXPORT FDBFuture *fdb_cluster_create_database(FDBCluster *c, const uint8_t *db_name, int db_name_length) {
    if (db_name_length != 2 || memcmp(db_name, "DB", 2) != 0)
        return future_error(FDB_ERR_INVALID_DATABASE_NAME);
    FDBDatabase *d = NULL;
    int err = fdb_create_database(c->path[0] ? c->path : NULL, &d);
    if (err) return future_error(err);
    FDBFuture *f = future_new(FK_DATABASE);
    if (!f) {
        fdb_database_destroy(d);
        return future_error(FDB_ERR_INTERNAL_ERROR);
    }
    f->u.ptr = d;
    f->on_free = drop_unclaimed_database;
    f->hook_ctx = f;
    future_set_ready_fresh(f, 0);
    return f;
}
