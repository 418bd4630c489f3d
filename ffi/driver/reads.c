/* The driver's read helpers: one call creates the future and, when it is
 * ready at once (the engine answers reads synchronously), copies the result
 * out and destroys the future, so the common case crosses into C once. */
#include "api_table.h"
#include "driver.h"

#include <stdlib.h>
#include <string.h>

/* Small results are copied here so the future can be destroyed at once;
 * the caller copies them out before its next call on this thread. */
#define FOUND_SCRATCH 16384
static _Thread_local char found_scratch[FOUND_SCRATCH];

static found_bytes found_bytes_of(FDBFuture *f, fdb_error_t err, int present, const uint8_t *data,
                                  int length) {
    found_bytes out = {FOUND_READY, 0, NULL, NULL, -1};
    if (err) {
        fdb_future_destroy(f);
        out.status = FOUND_FAILED;
        out.error = err;
        return out;
    }
    if (!present) {
        fdb_future_destroy(f);
        return out;
    }
    out.length = length;
    if (length <= FOUND_SCRATCH) {
        if (length > 0) memcpy(found_scratch, data, (size_t)length);
        out.data = found_scratch;
        fdb_future_destroy(f);
    } else {
        out.status = FOUND_HELD;
        out.future = f;
        out.data = (const char *)data;
    }
    return out;
}

static found_bytes found_pending_bytes(FDBFuture *f) {
    found_bytes out = {FOUND_PENDING, 0, f, NULL, -1};
    return out;
}

found_bytes found_take_value(FDBFuture *f) {
    fdb_bool_t present = 0;
    const uint8_t *data = NULL;
    int length = 0;
    fdb_error_t err = fdb_future_get_value(f, &present, &data, &length);
    return found_bytes_of(f, err, present, data, length);
}

found_engine_get_into_function found_get_into;

found_bytes found_get(FDBTransaction *tr, const char *key, int key_length, fdb_bool_t snapshot) {
    FDBFuture *f;
    if (found_get_into) {
        /* the engine: a value that fits lands in the scratch, no future */
        int length = -1;
        fdb_error_t err = 0;
        f = found_get_into(tr, (const uint8_t *)key, key_length, snapshot, (uint8_t *)found_scratch,
                           FOUND_SCRATCH, &length, &err);
        if (!f) {
            found_bytes out = {FOUND_READY, 0, NULL, found_scratch, length};
            if (err) {
                out.status = FOUND_FAILED;
                out.error = err;
                out.data = NULL;
                out.length = -1;
            }
            return out;
        }
        __atomic_fetch_add(&found_futures_alive, 1, __ATOMIC_RELAXED); /* counted as the wrappers count */
    } else {
        f = fdb_transaction_get(tr, (const uint8_t *)key, key_length, snapshot);
    }
    if (!fdb_future_is_ready(f)) return found_pending_bytes(f);
    return found_take_value(f);
}

found_bytes found_take_key(FDBFuture *f) {
    const uint8_t *data = NULL;
    int length = 0;
    fdb_error_t err = fdb_future_get_key(f, &data, &length);
    return found_bytes_of(f, err, 1, data, length);
}

found_bytes found_get_key(FDBTransaction *tr, const char *key, int key_length, fdb_bool_t or_equal,
                          int offset, fdb_bool_t snapshot) {
    FDBFuture *f = fdb_transaction_get_key(tr, (const uint8_t *)key, key_length, or_equal, offset, snapshot);
    if (!fdb_future_is_ready(f)) return found_pending_bytes(f);
    return found_take_key(f);
}

static found_pairs found_failed_pairs(FDBFuture *f, fdb_error_t err) {
    found_pairs out = {FOUND_FAILED, err, NULL, NULL, NULL, 0, 0, NULL, 0};
    fdb_future_destroy(f);
    return out;
}

found_pairs found_take_range(FDBFuture *f) {
    const FDBKeyValue *kv = NULL;
    int count = 0;
    fdb_bool_t more = 0;
    fdb_error_t err = fdb_future_get_keyvalue_array(f, &kv, &count, &more);
    if (err) return found_failed_pairs(f, err);
    size_t total = 0;
    for (int i = 0; i < count; i++) total += (size_t)kv[i].key_length + (size_t)kv[i].value_length;
    size_t offsets_size = sizeof(int) * (2 * (size_t)count + 1);
    /* offsets are ints: a batch past 2 GiB cannot be described (FoundationDB's are far smaller) */
    if (total > (size_t)0x7fffffff - offsets_size - 1) return found_failed_pairs(f, FOUND_INTERNAL_ERROR);
    char *block = malloc(offsets_size + total + 1);
    if (!block) return found_failed_pairs(f, FOUND_INTERNAL_ERROR);
    int *offsets = (int *)block;
    char *blob = block + offsets_size;
    int at = 0;
    for (int i = 0; i < count; i++) {
        offsets[2 * i] = at;
        if (kv[i].key_length) memcpy(blob + at, kv[i].key, (size_t)kv[i].key_length);
        at += kv[i].key_length;
        offsets[2 * i + 1] = at;
        if (kv[i].value_length) memcpy(blob + at, kv[i].value, (size_t)kv[i].value_length);
        at += kv[i].value_length;
    }
    offsets[2 * count] = at;
    fdb_future_destroy(f);
    found_pairs out = {FOUND_READY, 0, NULL, blob, offsets, count, more, block, (int)(offsets_size + total)};
    return out;
}

found_pairs found_get_range(FDBTransaction *tr, const char *begin, int begin_length,
                            fdb_bool_t begin_or_equal, int begin_offset, const char *end, int end_length,
                            fdb_bool_t end_or_equal, int end_offset, int limit, int target_bytes, int mode,
                            int iteration, fdb_bool_t snapshot, fdb_bool_t reverse) {
    FDBFuture *f = fdb_transaction_get_range(
        tr, (const uint8_t *)begin, begin_length, begin_or_equal, begin_offset, (const uint8_t *)end,
        end_length, end_or_equal, end_offset, limit, target_bytes, mode, iteration, snapshot, reverse);
    if (!fdb_future_is_ready(f)) {
        found_pairs out = {FOUND_PENDING, 0, f, NULL, NULL, 0, 0, NULL, 0};
        return out;
    }
    return found_take_range(f);
}

found_int found_take_int64(FDBFuture *f) {
    found_int out = {FOUND_READY, 0, NULL, 0};
    int64_t value = 0;
    fdb_error_t err = fdb_future_get_int64(f, &value);
    fdb_future_destroy(f);
    if (err) {
        out.status = FOUND_FAILED;
        out.error = err;
    }
    out.value = value;
    return out;
}

found_int found_take_error(FDBFuture *f) {
    found_int out = {FOUND_READY, 0, NULL, 0};
    fdb_error_t err = fdb_future_get_error(f);
    fdb_future_destroy(f);
    if (err) {
        out.status = FOUND_FAILED;
        out.error = err;
    }
    return out;
}

found_int found_commit(FDBTransaction *tr) {
    FDBFuture *f = fdb_transaction_commit(tr);
    if (!fdb_future_is_ready(f)) {
        found_int out = {FOUND_PENDING, 0, f, 0};
        return out;
    }
    return found_take_error(f);
}

found_new_transaction found_create_transaction(FDBDatabase *db) {
    found_new_transaction out = {0, NULL};
    out.error = fdb_database_create_transaction(db, &out.transaction);
    return out;
}

void found_free(void *block) { free(block); }
