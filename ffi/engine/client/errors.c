/* errors.c — error messages (gen_errors.h) and error predicates. */
#include "util/base.h"

static const fdb_error_entry *lookup(int code) {
    size_t lo = 0, hi = sizeof FDB_ERROR_TABLE / sizeof FDB_ERROR_TABLE[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (FDB_ERROR_TABLE[mid].code < code)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < sizeof FDB_ERROR_TABLE / sizeof FDB_ERROR_TABLE[0] && FDB_ERROR_TABLE[lo].code == code)
        return &FDB_ERROR_TABLE[lo];
    return NULL;
}

FDB_EXPORT const char *fdb_get_error(fdb_error_t code) {
    const fdb_error_entry *e = lookup(code);
    if (!e) e = lookup(FDB_ERR_UNKNOWN_ERROR);
    return e ? e->message : "An unknown error occurred";
}

static int maybe_committed(int code) {
    return code == FDB_ERR_COMMIT_UNKNOWN_RESULT || code == FDB_ERR_CLUSTER_VERSION_CHANGED;
}

static int retryable_not_committed(int code) {
    switch (code) {
    case FDB_ERR_NOT_COMMITTED:
    case FDB_ERR_TRANSACTION_TOO_OLD:
    case FDB_ERR_FUTURE_VERSION:
    case FDB_ERR_DATABASE_LOCKED:
    case FDB_ERR_GRV_PROXY_MEMORY_LIMIT_EXCEEDED:
    case FDB_ERR_COMMIT_PROXY_MEMORY_LIMIT_EXCEEDED:
    case FDB_ERR_BATCH_TRANSACTION_THROTTLED:
    case FDB_ERR_PROCESS_BEHIND:
    case FDB_ERR_TAG_THROTTLED:
    case FDB_ERR_PROXY_TAG_THROTTLED: return 1;
    default: return 0;
    }
}

FDB_EXPORT fdb_bool_t fdb_error_predicate(int predicate_test, fdb_error_t code) {
    switch (predicate_test) {
    case FDB_ERROR_PREDICATE_RETRYABLE: return maybe_committed(code) || retryable_not_committed(code);
    case FDB_ERROR_PREDICATE_MAYBE_COMMITTED: return maybe_committed(code);
    case FDB_ERROR_PREDICATE_RETRYABLE_NOT_COMMITTED: return retryable_not_committed(code);
    default: return 0;
    }
}
