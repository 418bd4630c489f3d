/*
 * base.h — definitions shared by every layer of the engine (util/, storage/, client/):
 * export macro, clocks, byte-string helpers, limits (from gen_limits.h).
 */
#ifndef FOUND_ENGINE_BASE_H
#define FOUND_ENGINE_BASE_H

#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "fdb_c_api.h"
#include "util/gen_errors.h"
#include "util/gen_limits.h"
#include "util/gen_options.h"

#define FDB_EXPORT           __attribute__((visibility("default")))
#define FOUND_API_VERSION    730
#define FOUND_CLIENT_VERSION "7.3.69-found-engine"

/* FoundationDB's documented limits. */
#define KEY_SIZE_LIMIT             FDB_KEY_SIZE_LIMIT
#define SYSTEM_KEY_SIZE_LIMIT      FDB_SYSTEM_KEY_SIZE_LIMIT
#define VALUE_SIZE_LIMIT           FDB_VALUE_SIZE_LIMIT
#define TRANSACTION_SIZE_DEFAULT   FDB_TRANSACTION_SIZE_LIMIT
#define TRANSACTION_LIFETIME_NS    5000000000LL /* MVCC window: 5 s */
#define DEFAULT_MAX_RETRY_DELAY_MS 1000
#define INITIAL_BACKOFF_MS         10
#define DEFAULT_MAX_WATCHES        10000

/* Monotonic clock in nanoseconds. */
int64_t now_ns(void);
/* The same clock at tick resolution (a few ms), cheap enough for every
 * read's lifetime and timeout checks. */
int64_t coarse_now_ns(void);

/* Three-way comparison of byte strings (shorter prefix sorts first). */
static inline int bytes_cmp(const uint8_t *a, int alen, const uint8_t *b, int blen) {
    /* Most comparisons are decided by the first byte: skip the call. */
    if (alen && blen && a[0] != b[0]) return a[0] < b[0] ? -1 : 1;
    int n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, (size_t)n) : 0;
    if (c) return c;
    return (alen > blen) - (alen < blen);
}

/* Set while this thread runs a store callback (commit done, watch fired):
 * closing a store from its own thread would deadlock, so final releases
 * made there are handed to the timer thread. */
extern _Thread_local int on_store_thread;

/* Callers may pass NULL for an empty key or value; the engine never
 * hands NULL on to memcpy and friends. */
static inline const uint8_t *bytes_or_empty(const uint8_t *p) { return p ? p : (const uint8_t *)""; }

/* The API version chosen by fdb_select_api_version_impl (0 = unset). */
int api_version_selected(void);

#endif
