/*
 * found — our declarations of the FoundationDB C API, API version 730.
 *
 * Written from FoundationDB's public documentation of the C API; the
 * function list matches ffi/reference/fdb_c-7.3.69-exports.txt.
 *
 * This one header is the contract between the three layers:
 *   - ffi/engine/ implements every function below (the embedded engine);
 *   - ffi/build_ffi.py feeds the declarations to CFFI (lines starting with
 *     '#' are dropped, so keep every declaration on plain C lines);
 *   - the real libfdb_c 7.3 exports the same symbols with the same ABI.
 *
 * Option, error and mutation codes are NOT declared here as enums: they
 * are plain ints, and their tables are generated from ffi/reference/.
 */
#ifndef FOUND_FDB_C_API_H
#define FOUND_FDB_C_API_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int fdb_error_t;
typedef int fdb_bool_t;

typedef struct FDB_future FDBFuture;
typedef struct FDB_result FDBResult;
typedef struct FDB_database FDBDatabase;
typedef struct FDB_tenant FDBTenant;
typedef struct FDB_transaction FDBTransaction;
typedef struct FDB_cluster FDBCluster;
typedef struct DatabaseSharedState DatabaseSharedState;

/* Blob-granule payload types: opaque to us (the engine has no blob
 * granules; see docs/engine.md). */
typedef struct FDBGranuleSummary FDBGranuleSummary;
typedef struct FDBBGFileDescription FDBBGFileDescription;
typedef struct FDBBGMutation FDBBGMutation;
typedef struct FDBBGTenantPrefix FDBBGTenantPrefix;
typedef struct FDBBGEncryptionCtx FDBBGEncryptionCtx;
typedef struct FDBMappedKeyValue FDBMappedKeyValue;

typedef void (*FDBCallback)(FDBFuture *future, void *callback_parameter);

/* libfdb_c lays these three out with 4-byte packing: on 64-bit targets a
 * FDBKeyValue is 24 bytes, not 32. Bindings (ctypes _pack_ = 4) rely on it. */
#pragma pack(push, 4)
typedef struct FDBKey {
    const uint8_t *key;
    int key_length;
} FDBKey;

typedef struct FDBKeyValue {
    const uint8_t *key;
    int key_length;
    const uint8_t *value;
    int value_length;
} FDBKeyValue;

typedef struct FDBKeyRange {
    const uint8_t *begin_key;
    int begin_key_length;
    const uint8_t *end_key;
    int end_key_length;
} FDBKeyRange;
#pragma pack(pop)

/* Callbacks a caller hands to the blob-granule readers. */
typedef struct FDBReadBlobGranuleContext {
    void *userContext;
    int64_t (*start_load_f)(const char *filename, int filename_length, int64_t offset, int64_t length,
                            int64_t full_file_length, void *context);
    uint8_t *(*get_load_f)(int64_t load_id, void *context);
    void (*free_load_f)(int64_t load_id, void *context);
    fdb_bool_t debugNoMaterialize;
    int granuleParallelism;
} FDBReadBlobGranuleContext;

/* --- API version, errors, client ---------------------------------------- */
fdb_error_t fdb_select_api_version_impl(int runtime_version, int header_version);
int fdb_get_max_api_version(void);
const char *fdb_get_client_version(void);
const char *fdb_get_error(fdb_error_t code);
fdb_bool_t fdb_error_predicate(int predicate_test, fdb_error_t code);
fdb_error_t fdb_use_future_protocol_version(void);

/* --- network ------------------------------------------------------------ */
fdb_error_t fdb_network_set_option(int option, const uint8_t *value, int value_length);
fdb_error_t fdb_setup_network(void);
fdb_error_t fdb_run_network(void);
fdb_error_t fdb_stop_network(void);
fdb_error_t fdb_add_network_thread_completion_hook(void (*hook)(void *), void *hook_parameter);

/* --- futures ------------------------------------------------------------ */
void fdb_future_cancel(FDBFuture *f);
void fdb_future_release_memory(FDBFuture *f);
void fdb_future_destroy(FDBFuture *f);
fdb_error_t fdb_future_block_until_ready(FDBFuture *f);
fdb_bool_t fdb_future_is_ready(FDBFuture *f);
fdb_bool_t fdb_future_is_error(FDBFuture *f);
fdb_error_t fdb_future_set_callback(FDBFuture *f, FDBCallback callback, void *callback_parameter);
fdb_error_t fdb_future_get_error(FDBFuture *f);
fdb_error_t fdb_future_get_bool(FDBFuture *f, fdb_bool_t *out);
fdb_error_t fdb_future_get_int64(FDBFuture *f, int64_t *out);
fdb_error_t fdb_future_get_uint64(FDBFuture *f, uint64_t *out);
fdb_error_t fdb_future_get_double(FDBFuture *f, double *out);
fdb_error_t fdb_future_get_version(FDBFuture *f, int64_t *out_version);
fdb_error_t fdb_future_get_key(FDBFuture *f, const uint8_t **out_key, int *out_key_length);
fdb_error_t fdb_future_get_value(FDBFuture *f, fdb_bool_t *out_present, const uint8_t **out_value,
                                 int *out_value_length);
fdb_error_t fdb_future_get_keyvalue_array(FDBFuture *f, const FDBKeyValue **out_kv, int *out_count,
                                          fdb_bool_t *out_more);
fdb_error_t fdb_future_get_mappedkeyvalue_array(FDBFuture *f, const FDBMappedKeyValue **out_kv,
                                                int *out_count, fdb_bool_t *out_more);
fdb_error_t fdb_future_get_key_array(FDBFuture *f, const FDBKey **out_key_array, int *out_count);
fdb_error_t fdb_future_get_string_array(FDBFuture *f, const char ***out_strings, int *out_count);
fdb_error_t fdb_future_get_keyrange_array(FDBFuture *f, const FDBKeyRange **out_ranges, int *out_count);
fdb_error_t fdb_future_get_granule_summary_array(FDBFuture *f, const FDBGranuleSummary **out_summaries,
                                                 int *out_count);
fdb_error_t fdb_future_get_database(FDBFuture *f, FDBDatabase **out_database);
fdb_error_t fdb_future_get_cluster(FDBFuture *f, FDBCluster **out_cluster);
fdb_error_t fdb_future_get_shared_state(FDBFuture *f, DatabaseSharedState **out_state);
fdb_error_t fdb_future_readbg_get_descriptions(FDBFuture *f, FDBBGFileDescription **out, int *desc_count);

/* --- results (blob granules) -------------------------------------------- */
void fdb_result_destroy(FDBResult *r);
fdb_error_t fdb_result_get_keyvalue_array(FDBResult *r, const FDBKeyValue **out_kv, int *out_count,
                                          fdb_bool_t *out_more);
fdb_error_t fdb_result_get_bg_mutations_array(FDBResult *r, const FDBBGMutation **out_mutations,
                                              int *out_count);
FDBResult *fdb_readbg_parse_snapshot_file(const uint8_t *file_data, int file_len,
                                          const FDBBGTenantPrefix *tenant_prefix,
                                          const FDBBGEncryptionCtx *encryption_ctx);
FDBResult *fdb_readbg_parse_delta_file(const uint8_t *file_data, int file_len,
                                       const FDBBGTenantPrefix *tenant_prefix,
                                       const FDBBGEncryptionCtx *encryption_ctx);

/* --- cluster (legacy, API < 610) ---------------------------------------- */
FDBFuture *fdb_create_cluster(const char *cluster_file_path);
void fdb_cluster_destroy(FDBCluster *c);
fdb_error_t fdb_cluster_set_option(FDBCluster *c, int option, const uint8_t *value, int value_length);
FDBFuture *fdb_cluster_create_database(FDBCluster *c, const uint8_t *db_name, int db_name_length);

/* --- database ----------------------------------------------------------- */
fdb_error_t fdb_create_database(const char *cluster_file_path, FDBDatabase **out_database);
fdb_error_t fdb_create_database_from_connection_string(const char *connection_string,
                                                       FDBDatabase **out_database);
void fdb_database_destroy(FDBDatabase *d);
fdb_error_t fdb_database_set_option(FDBDatabase *d, int option, const uint8_t *value, int value_length);
fdb_error_t fdb_database_open_tenant(FDBDatabase *d, const uint8_t *tenant_name, int tenant_name_length,
                                     FDBTenant **out_tenant);
fdb_error_t fdb_database_create_transaction(FDBDatabase *d, FDBTransaction **out_transaction);
FDBFuture *fdb_database_reboot_worker(FDBDatabase *db, const uint8_t *address, int address_length,
                                      fdb_bool_t check, int duration);
FDBFuture *fdb_database_force_recovery_with_data_loss(FDBDatabase *db, const uint8_t *dcid, int dcid_length);
FDBFuture *fdb_database_create_snapshot(FDBDatabase *db, const uint8_t *uid, int uid_length,
                                        const uint8_t *snap_command, int snap_command_length);
FDBFuture *fdb_database_create_shared_state(FDBDatabase *db);
void fdb_database_set_shared_state(FDBDatabase *db, DatabaseSharedState *p);
double fdb_database_get_main_thread_busyness(FDBDatabase *db);
FDBFuture *fdb_database_get_server_protocol(FDBDatabase *db, uint64_t expected_version);
FDBFuture *fdb_database_get_client_status(FDBDatabase *db);
FDBFuture *fdb_database_purge_blob_granules(FDBDatabase *db, const uint8_t *begin_key, int begin_key_length,
                                            const uint8_t *end_key, int end_key_length, int64_t purge_version,
                                            fdb_bool_t force);
FDBFuture *fdb_database_wait_purge_granules_complete(FDBDatabase *db, const uint8_t *purge_key,
                                                     int purge_key_length);
FDBFuture *fdb_database_blobbify_range(FDBDatabase *db, const uint8_t *begin_key, int begin_key_length,
                                       const uint8_t *end_key, int end_key_length);
FDBFuture *fdb_database_blobbify_range_blocking(FDBDatabase *db, const uint8_t *begin_key,
                                                int begin_key_length, const uint8_t *end_key,
                                                int end_key_length);
FDBFuture *fdb_database_unblobbify_range(FDBDatabase *db, const uint8_t *begin_key, int begin_key_length,
                                         const uint8_t *end_key, int end_key_length);
FDBFuture *fdb_database_list_blobbified_ranges(FDBDatabase *db, const uint8_t *begin_key,
                                               int begin_key_length, const uint8_t *end_key,
                                               int end_key_length, int range_limit);
FDBFuture *fdb_database_verify_blob_range(FDBDatabase *db, const uint8_t *begin_key, int begin_key_length,
                                          const uint8_t *end_key, int end_key_length, int64_t version);
FDBFuture *fdb_database_flush_blob_range(FDBDatabase *db, const uint8_t *begin_key, int begin_key_length,
                                         const uint8_t *end_key, int end_key_length, fdb_bool_t compact,
                                         int64_t version);

/* --- tenant ------------------------------------------------------------- */
fdb_error_t fdb_tenant_create_transaction(FDBTenant *tenant, FDBTransaction **out_transaction);
void fdb_tenant_destroy(FDBTenant *tenant);
FDBFuture *fdb_tenant_get_id(FDBTenant *tenant);
FDBFuture *fdb_tenant_purge_blob_granules(FDBTenant *tenant, const uint8_t *begin_key, int begin_key_length,
                                          const uint8_t *end_key, int end_key_length, int64_t purge_version,
                                          fdb_bool_t force);
FDBFuture *fdb_tenant_wait_purge_granules_complete(FDBTenant *tenant, const uint8_t *purge_key,
                                                   int purge_key_length);
FDBFuture *fdb_tenant_blobbify_range(FDBTenant *tenant, const uint8_t *begin_key, int begin_key_length,
                                     const uint8_t *end_key, int end_key_length);
FDBFuture *fdb_tenant_blobbify_range_blocking(FDBTenant *tenant, const uint8_t *begin_key,
                                              int begin_key_length, const uint8_t *end_key,
                                              int end_key_length);
FDBFuture *fdb_tenant_unblobbify_range(FDBTenant *tenant, const uint8_t *begin_key, int begin_key_length,
                                       const uint8_t *end_key, int end_key_length);
FDBFuture *fdb_tenant_list_blobbified_ranges(FDBTenant *tenant, const uint8_t *begin_key,
                                             int begin_key_length, const uint8_t *end_key, int end_key_length,
                                             int range_limit);
FDBFuture *fdb_tenant_verify_blob_range(FDBTenant *tenant, const uint8_t *begin_key, int begin_key_length,
                                        const uint8_t *end_key, int end_key_length, int64_t version);
FDBFuture *fdb_tenant_flush_blob_range(FDBTenant *tenant, const uint8_t *begin_key, int begin_key_length,
                                       const uint8_t *end_key, int end_key_length, fdb_bool_t compact,
                                       int64_t version);

/* --- transaction -------------------------------------------------------- */
void fdb_transaction_destroy(FDBTransaction *tr);
void fdb_transaction_cancel(FDBTransaction *tr);
fdb_error_t fdb_transaction_set_option(FDBTransaction *tr, int option, const uint8_t *value,
                                       int value_length);
void fdb_transaction_set_read_version(FDBTransaction *tr, int64_t version);
FDBFuture *fdb_transaction_get_read_version(FDBTransaction *tr);
FDBFuture *fdb_transaction_get(FDBTransaction *tr, const uint8_t *key_name, int key_name_length,
                               fdb_bool_t snapshot);
FDBFuture *fdb_transaction_get_key(FDBTransaction *tr, const uint8_t *key_name, int key_name_length,
                                   fdb_bool_t or_equal, int offset, fdb_bool_t snapshot);
FDBFuture *fdb_transaction_get_addresses_for_key(FDBTransaction *tr, const uint8_t *key_name,
                                                 int key_name_length);
FDBFuture *fdb_transaction_get_range(FDBTransaction *tr, const uint8_t *begin_key_name,
                                     int begin_key_name_length, fdb_bool_t begin_or_equal, int begin_offset,
                                     const uint8_t *end_key_name, int end_key_name_length,
                                     fdb_bool_t end_or_equal, int end_offset, int limit, int target_bytes,
                                     int mode, int iteration, fdb_bool_t snapshot, fdb_bool_t reverse);
/* The pre-API-14 name of fdb_transaction_get_range; same arguments. */
FDBFuture *fdb_transaction_get_range_selector(FDBTransaction *tr, const uint8_t *begin_key_name,
                                              int begin_key_name_length, fdb_bool_t begin_or_equal,
                                              int begin_offset, const uint8_t *end_key_name,
                                              int end_key_name_length, fdb_bool_t end_or_equal,
                                              int end_offset, int limit, int target_bytes, int mode,
                                              int iteration, fdb_bool_t snapshot, fdb_bool_t reverse);
FDBFuture *fdb_transaction_get_mapped_range(FDBTransaction *tr, const uint8_t *begin_key_name,
                                            int begin_key_name_length, fdb_bool_t begin_or_equal,
                                            int begin_offset, const uint8_t *end_key_name,
                                            int end_key_name_length, fdb_bool_t end_or_equal, int end_offset,
                                            const uint8_t *mapper_name, int mapper_name_length, int limit,
                                            int target_bytes, int mode, int iteration, fdb_bool_t snapshot,
                                            fdb_bool_t reverse);
void fdb_transaction_set(FDBTransaction *tr, const uint8_t *key_name, int key_name_length,
                         const uint8_t *value, int value_length);
void fdb_transaction_atomic_op(FDBTransaction *tr, const uint8_t *key_name, int key_name_length,
                               const uint8_t *param, int param_length, int operation_type);
void fdb_transaction_clear(FDBTransaction *tr, const uint8_t *key_name, int key_name_length);
void fdb_transaction_clear_range(FDBTransaction *tr, const uint8_t *begin_key_name, int begin_key_name_length,
                                 const uint8_t *end_key_name, int end_key_name_length);
FDBFuture *fdb_transaction_watch(FDBTransaction *tr, const uint8_t *key_name, int key_name_length);
FDBFuture *fdb_transaction_commit(FDBTransaction *tr);
fdb_error_t fdb_transaction_get_committed_version(FDBTransaction *tr, int64_t *out_version);
FDBFuture *fdb_transaction_get_tag_throttled_duration(FDBTransaction *tr);
FDBFuture *fdb_transaction_get_total_cost(FDBTransaction *tr);
FDBFuture *fdb_transaction_get_approximate_size(FDBTransaction *tr);
FDBFuture *fdb_transaction_get_versionstamp(FDBTransaction *tr);
FDBFuture *fdb_transaction_on_error(FDBTransaction *tr, fdb_error_t error);
void fdb_transaction_reset(FDBTransaction *tr);
fdb_error_t fdb_transaction_add_conflict_range(FDBTransaction *tr, const uint8_t *begin_key_name,
                                               int begin_key_name_length, const uint8_t *end_key_name,
                                               int end_key_name_length, int type);
FDBFuture *fdb_transaction_get_estimated_range_size_bytes(FDBTransaction *tr, const uint8_t *begin_key_name,
                                                          int begin_key_name_length,
                                                          const uint8_t *end_key_name,
                                                          int end_key_name_length);
FDBFuture *fdb_transaction_get_range_split_points(FDBTransaction *tr, const uint8_t *begin_key_name,
                                                  int begin_key_name_length, const uint8_t *end_key_name,
                                                  int end_key_name_length, int64_t chunk_size);
FDBFuture *fdb_transaction_get_blob_granule_ranges(FDBTransaction *tr, const uint8_t *begin_key_name,
                                                   int begin_key_name_length, const uint8_t *end_key_name,
                                                   int end_key_name_length, int range_limit);
FDBResult *fdb_transaction_read_blob_granules(FDBTransaction *tr, const uint8_t *begin_key_name,
                                              int begin_key_name_length, const uint8_t *end_key_name,
                                              int end_key_name_length, int64_t begin_version,
                                              int64_t read_version,
                                              FDBReadBlobGranuleContext granule_context);
FDBFuture *fdb_transaction_read_blob_granules_start(FDBTransaction *tr, const uint8_t *begin_key_name,
                                                    int begin_key_name_length, const uint8_t *end_key_name,
                                                    int end_key_name_length, int64_t begin_version,
                                                    int64_t read_version, int64_t *read_version_out);
FDBResult *fdb_transaction_read_blob_granules_finish(FDBTransaction *tr, FDBFuture *f,
                                                     const uint8_t *begin_key_name, int begin_key_name_length,
                                                     const uint8_t *end_key_name, int end_key_name_length,
                                                     int64_t begin_version, int64_t read_version,
                                                     FDBReadBlobGranuleContext *granule_context);
FDBFuture *fdb_transaction_read_blob_granules_description(FDBTransaction *tr, const uint8_t *begin_key_name,
                                                          int begin_key_name_length,
                                                          const uint8_t *end_key_name,
                                                          int end_key_name_length, int64_t begin_version,
                                                          int64_t read_version, int64_t *read_version_out);
FDBFuture *fdb_transaction_summarize_blob_granules(FDBTransaction *tr, const uint8_t *begin_key_name,
                                                   int begin_key_name_length, const uint8_t *end_key_name,
                                                   int end_key_name_length, int64_t summary_version,
                                                   int range_limit);

#ifdef __cplusplus
}
#endif

#endif /* FOUND_FDB_C_API_H */
