/* options.c — see options.h. */
#include "client/options.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "util/buggify.h"
#include "client/database.h"
#include "client/transaction.h"

/* An integer option's value: 8 little-endian bytes. */
static int int_value(const uint8_t *v, int len, int64_t *out) {
    if (!v || len != 8) return FDB_ERR_INVALID_OPTION_VALUE;
    uint64_t x = 0;
    for (int i = 7; i >= 0; i--) x = (x << 8) | v[i];
    *out = (int64_t)x;
    return 0;
}

static int in_range(int64_t x, int64_t lo, int64_t hi) { return x >= lo && x <= hi; }

/* The knob network option ("name=value"): FoundationDB's knobs mean
 * nothing here and are accepted; one engine-only knob is understood. */
#define READ_FIRED_KNOB "found_client_buggify_read_fired_probability="

static int knob(const uint8_t *value, int value_length) {
    size_t n = strlen(READ_FIRED_KNOB);
    if (!value || value_length <= (int)n || memcmp(value, READ_FIRED_KNOB, n) != 0) return 0;
    char digits[24];
    int len = value_length - (int)n;
    if (len >= (int)sizeof digits) return FDB_ERR_INVALID_OPTION_VALUE;
    memcpy(digits, value + n, (size_t)len);
    digits[len] = 0;
    char *end;
    long long percent = strtoll(digits, &end, 10);
    if (*end) return FDB_ERR_INVALID_OPTION_VALUE;
    return buggify_set_read_fired_probability(percent);
}

int network_option(int option, const uint8_t *value, int value_length) {
    int64_t x;
    int err;
    switch (option) {
    case FDB_NET_OPTION_CLIENT_BUGGIFY_ENABLE: buggify_set_enabled(1); return 0;
    case FDB_NET_OPTION_CLIENT_BUGGIFY_DISABLE: buggify_set_enabled(0); return 0;
    case FDB_NET_OPTION_CLIENT_BUGGIFY_SECTION_ACTIVATED_PROBABILITY:
        if ((err = int_value(value, value_length, &x))) return err;
        return buggify_set_activated_probability(x);
    case FDB_NET_OPTION_CLIENT_BUGGIFY_SECTION_FIRED_PROBABILITY:
        if ((err = int_value(value, value_length, &x))) return err;
        return buggify_set_fired_probability(x);
    /* Server-side buggify and everything about traces, TLS, external
     * clients and the network: nothing to do in an embedded engine. */
    case FDB_NET_OPTION_LOCAL_ADDRESS:
    case FDB_NET_OPTION_CLUSTER_FILE:
    case FDB_NET_OPTION_TRACE_ENABLE:
    case FDB_NET_OPTION_TRACE_ROLL_SIZE:
    case FDB_NET_OPTION_TRACE_MAX_LOGS_SIZE:
    case FDB_NET_OPTION_TRACE_LOG_GROUP:
    case FDB_NET_OPTION_TRACE_FORMAT:
    case FDB_NET_OPTION_TRACE_CLOCK_SOURCE:
    case FDB_NET_OPTION_TRACE_FILE_IDENTIFIER:
    case FDB_NET_OPTION_TRACE_SHARE_AMONG_CLIENT_THREADS:
    case FDB_NET_OPTION_TRACE_INITIALIZE_ON_SETUP:
    case FDB_NET_OPTION_TRACE_PARTIAL_FILE_SUFFIX:
    case FDB_NET_OPTION_KNOB: return knob(value, value_length);
    case FDB_NET_OPTION_TLS_PLUGIN:
    case FDB_NET_OPTION_TLS_CERT_BYTES:
    case FDB_NET_OPTION_TLS_CERT_PATH:
    case FDB_NET_OPTION_TLS_KEY_BYTES:
    case FDB_NET_OPTION_TLS_KEY_PATH:
    case FDB_NET_OPTION_TLS_VERIFY_PEERS:
    case FDB_NET_OPTION_BUGGIFY_ENABLE:
    case FDB_NET_OPTION_BUGGIFY_DISABLE:
    case FDB_NET_OPTION_BUGGIFY_SECTION_ACTIVATED_PROBABILITY:
    case FDB_NET_OPTION_BUGGIFY_SECTION_FIRED_PROBABILITY:
    case FDB_NET_OPTION_TLS_CA_BYTES:
    case FDB_NET_OPTION_TLS_CA_PATH:
    case FDB_NET_OPTION_TLS_PASSWORD:
    case FDB_NET_OPTION_DISABLE_MULTI_VERSION_CLIENT_API:
    case FDB_NET_OPTION_CALLBACKS_ON_EXTERNAL_THREADS:
    case FDB_NET_OPTION_EXTERNAL_CLIENT_LIBRARY:
    case FDB_NET_OPTION_EXTERNAL_CLIENT_DIRECTORY:
    case FDB_NET_OPTION_DISABLE_LOCAL_CLIENT:
    case FDB_NET_OPTION_CLIENT_THREADS_PER_VERSION:
    case FDB_NET_OPTION_FUTURE_VERSION_CLIENT_LIBRARY:
    case FDB_NET_OPTION_RETAIN_CLIENT_LIBRARY_COPIES:
    case FDB_NET_OPTION_IGNORE_EXTERNAL_CLIENT_FAILURES:
    case FDB_NET_OPTION_FAIL_INCOMPATIBLE_CLIENT:
    case FDB_NET_OPTION_DISABLE_CLIENT_STATISTICS_LOGGING:
    case FDB_NET_OPTION_ENABLE_SLOW_TASK_PROFILING:
    case FDB_NET_OPTION_DISABLE_CLIENT_BYPASS:
    case FDB_NET_OPTION_DISTRIBUTED_CLIENT_TRACER:
    case FDB_NET_OPTION_CLIENT_TMP_DIR:
    case FDB_NET_OPTION_SUPPORTED_CLIENT_VERSIONS:
    case FDB_NET_OPTION_EXTERNAL_CLIENT:
    case FDB_NET_OPTION_EXTERNAL_CLIENT_TRANSPORT_ID: return 0;
    default: return FDB_ERR_INVALID_OPTION;
    }
}

/* The options a database and a transaction share (codes 500-503). */
static int set_default(tx_defaults *t, int option, const uint8_t *value, int value_length) {
    int64_t x;
    int err = int_value(value, value_length, &x);
    if (err) return err;
    switch (option) {
    /* FoundationDB takes these as C ints (ReadYourWrites' extractIntOption
     * with INT_MAX as the bound): a larger value is 2006, not a long timeout. */
    case FDB_TR_OPTION_TIMEOUT:
        if (!in_range(x, 0, INT_MAX)) return FDB_ERR_INVALID_OPTION_VALUE;
        t->timeout_ms = x;
        return 0;
    case FDB_TR_OPTION_RETRY_LIMIT:
        if (!in_range(x, -1, INT_MAX)) return FDB_ERR_INVALID_OPTION_VALUE;
        t->retry_limit = x;
        return 0;
    case FDB_TR_OPTION_MAX_RETRY_DELAY:
        if (!in_range(x, 0, INT_MAX)) return FDB_ERR_INVALID_OPTION_VALUE;
        t->max_retry_delay_ms = x;
        return 0;
    case FDB_TR_OPTION_SIZE_LIMIT:
        if (!in_range(x, 32, TRANSACTION_SIZE_DEFAULT)) return FDB_ERR_INVALID_OPTION_VALUE;
        t->size_limit = x;
        return 0;
    default: return FDB_ERR_INVALID_OPTION;
    }
}

int database_option(FDBDatabase *d, int option, const uint8_t *value, int value_length) {
    int64_t x;
    int err;
    switch (option) {
    case FDB_DB_OPTION_MAX_WATCHES:
        if ((err = int_value(value, value_length, &x))) return err;
        if (!in_range(x, 0, 1000000)) return FDB_ERR_INVALID_OPTION_VALUE;
        d->max_watches = (int)x;
        return 0;
    case FDB_DB_OPTION_TRANSACTION_TIMEOUT:
    case FDB_DB_OPTION_TRANSACTION_RETRY_LIMIT:
    case FDB_DB_OPTION_TRANSACTION_MAX_RETRY_DELAY:
    case FDB_DB_OPTION_TRANSACTION_SIZE_LIMIT: return set_default(&d->defaults, option, value, value_length);
    case FDB_DB_OPTION_SNAPSHOT_RYW_ENABLE: d->defaults.snapshot_ryw_disable = 0; return 0;
    case FDB_DB_OPTION_SNAPSHOT_RYW_DISABLE: d->defaults.snapshot_ryw_disable = 1; return 0;
    case FDB_DB_OPTION_LOCATION_CACHE_SIZE:
    case FDB_DB_OPTION_MACHINE_ID:
    case FDB_DB_OPTION_DATACENTER_ID:
    case FDB_DB_OPTION_TRANSACTION_LOGGING_MAX_FIELD_LENGTH:
    case FDB_DB_OPTION_TRANSACTION_CAUSAL_READ_RISKY:
    case FDB_DB_OPTION_TRANSACTION_INCLUDE_PORT_IN_ADDRESS:
    case FDB_DB_OPTION_TRANSACTION_AUTOMATIC_IDEMPOTENCY:
    case FDB_DB_OPTION_TRANSACTION_BYPASS_UNREADABLE:
    case FDB_DB_OPTION_TRANSACTION_USED_DURING_COMMIT_PROTECTION_DISABLE:
    case FDB_DB_OPTION_TRANSACTION_REPORT_CONFLICTING_KEYS:
    case FDB_DB_OPTION_USE_CONFIG_DATABASE:
    case FDB_DB_OPTION_TEST_CAUSAL_READ_RISKY: return 0;
    default: return FDB_ERR_INVALID_OPTION;
    }
}

int transaction_option(FDBTransaction *tr, int option, const uint8_t *value, int value_length) {
    switch (option) {
    case FDB_TR_OPTION_TIMEOUT: /* counted from creation or reset, as in FoundationDB */
        /* the caller fired an elapsed timeout first (transaction.c) */
        return set_default(&tr->opt, option, value, value_length);
    case FDB_TR_OPTION_RETRY_LIMIT:
    case FDB_TR_OPTION_MAX_RETRY_DELAY:
    case FDB_TR_OPTION_SIZE_LIMIT: return set_default(&tr->opt, option, value, value_length);
    case FDB_TR_OPTION_READ_YOUR_WRITES_DISABLE:
        /* Only before the first read or write, as in FoundationDB. */
        if (tr->snap || !ryw_empty(&tr->wr->w) || tr->wr->mutations.len)
            return FDB_ERR_CLIENT_INVALID_OPERATION;
        tr->ryw_disable = 1;
        return 0;
    case FDB_TR_OPTION_SNAPSHOT_RYW_ENABLE: tr->opt.snapshot_ryw_disable = 0; return 0;
    case FDB_TR_OPTION_SNAPSHOT_RYW_DISABLE: tr->opt.snapshot_ryw_disable = 1; return 0;
    case FDB_TR_OPTION_ACCESS_SYSTEM_KEYS: tr->write_system = tr->read_system = 1; return 0;
    case FDB_TR_OPTION_READ_SYSTEM_KEYS: tr->read_system = 1; return 0;
    case FDB_TR_OPTION_NEXT_WRITE_NO_WRITE_CONFLICT_RANGE: tr->next_write_no_conflict = 1; return 0;
    case FDB_TR_OPTION_REPORT_CONFLICTING_KEYS: tr->report_conflicting_keys = 1; return 0;
    case FDB_TR_OPTION_SPECIAL_KEY_SPACE_RELAXED: tr->sk_relaxed = 1; return 0;
    case FDB_TR_OPTION_SPECIAL_KEY_SPACE_ENABLE_WRITES: tr->sk_writes = 1; return 0;
    case FDB_TR_OPTION_CAUSAL_WRITE_RISKY:
    case FDB_TR_OPTION_CAUSAL_READ_RISKY:
    case FDB_TR_OPTION_CAUSAL_READ_DISABLE:
    case FDB_TR_OPTION_INCLUDE_PORT_IN_ADDRESS:
    case FDB_TR_OPTION_COMMIT_ON_FIRST_PROXY:
    case FDB_TR_OPTION_CHECK_WRITES_ENABLE:
    case FDB_TR_OPTION_READ_AHEAD_DISABLE:
    case FDB_TR_OPTION_READ_SERVER_SIDE_CACHE_ENABLE:
    case FDB_TR_OPTION_READ_SERVER_SIDE_CACHE_DISABLE:
    case FDB_TR_OPTION_READ_PRIORITY_NORMAL:
    case FDB_TR_OPTION_READ_PRIORITY_LOW:
    case FDB_TR_OPTION_READ_PRIORITY_HIGH:
    case FDB_TR_OPTION_DURABILITY_DATACENTER:
    case FDB_TR_OPTION_DURABILITY_RISKY:
    case FDB_TR_OPTION_DURABILITY_DEV_NULL_IS_WEB_SCALE:
    case FDB_TR_OPTION_PRIORITY_SYSTEM_IMMEDIATE:
    case FDB_TR_OPTION_PRIORITY_BATCH:
    case FDB_TR_OPTION_INITIALIZE_NEW_DATABASE:
    case FDB_TR_OPTION_RAW_ACCESS:
    case FDB_TR_OPTION_BYPASS_STORAGE_QUOTA:
    case FDB_TR_OPTION_DEBUG_DUMP:
    case FDB_TR_OPTION_DEBUG_RETRY_LOGGING:
    case FDB_TR_OPTION_TRANSACTION_LOGGING_ENABLE:
    case FDB_TR_OPTION_DEBUG_TRANSACTION_IDENTIFIER:
    case FDB_TR_OPTION_LOG_TRANSACTION:
    case FDB_TR_OPTION_TRANSACTION_LOGGING_MAX_FIELD_LENGTH:
    case FDB_TR_OPTION_SERVER_REQUEST_TRACING:
    case FDB_TR_OPTION_IDEMPOTENCY_ID:
    case FDB_TR_OPTION_AUTOMATIC_IDEMPOTENCY:
    case FDB_TR_OPTION_LOCK_AWARE:
    case FDB_TR_OPTION_USED_DURING_COMMIT_PROTECTION_DISABLE:
    case FDB_TR_OPTION_READ_LOCK_AWARE:
    case FDB_TR_OPTION_FIRST_IN_BATCH:
    case FDB_TR_OPTION_USE_PROVISIONAL_PROXIES:
    case FDB_TR_OPTION_TAG:
    case FDB_TR_OPTION_AUTO_THROTTLE_TAG:
    case FDB_TR_OPTION_SPAN_PARENT:
    case FDB_TR_OPTION_EXPENSIVE_CLEAR_COST_ESTIMATION_ENABLE:
    case FDB_TR_OPTION_BYPASS_UNREADABLE:
    case FDB_TR_OPTION_USE_GRV_CACHE:
    case FDB_TR_OPTION_SKIP_GRV_CACHE:
    case FDB_TR_OPTION_AUTHORIZATION_TOKEN: return 0;
    default: return FDB_ERR_INVALID_OPTION;
    }
}
