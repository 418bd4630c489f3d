/*
 * special_keys.h — the special key space (keys from \xff\xff up to
 * \xff\xff\xff) as a FoundationDB 7.3 cluster with tenant mode off presents
 * it to a client: the same modules, read-only except the tenant management
 * range, and FoundationDB's errors for reads across modules (2112), outside
 * any module (2113), writes without special_key_space_enable_writes (2114),
 * writes where no module takes them (2115) and clears across modules (2116).
 * docs/engine.md lists what each module holds here.
 */
#ifndef FOUND_ENGINE_SPECIAL_KEYS_H
#define FOUND_ENGINE_SPECIAL_KEYS_H

#include <stdint.h>

#include "client/selectors.h"
#include "client/transaction.h"

/* 1 when key lies in the special key space. */
int sk_contains_key(const uint8_t *key, int key_len);
/* 1 when a range read with these (selector) keys goes to the special key
 * space: begin inside it, end no further than its end. */
int sk_routes_range(const uint8_t *b, int bl, const uint8_t *e, int el);

/* Reads (an already complete future), on a transaction the caller has
 * checked (tx_check_usable). byte_limit 0 = none. */
FDBFuture *sk_get(FDBTransaction *tr, const uint8_t *key, int key_len);
FDBFuture *sk_get_range(FDBTransaction *tr, const selector *b, const selector *e, int limit,
                        int64_t byte_limit, int reverse);

/* Writes: 0, or the error the write leaves behind (reported later). */
int sk_set(FDBTransaction *tr, const uint8_t *key, int key_len);
int sk_clear_key(FDBTransaction *tr, const uint8_t *key, int key_len);
int sk_clear_range(FDBTransaction *tr, const uint8_t *b, int bl, const uint8_t *e, int el);

/* What committing the special-key writes gives: 0, or 2136 when the
 * transaction creates or changes a tenant (tenant mode is off). */
int sk_commit_check(const FDBTransaction *tr);

#endif
