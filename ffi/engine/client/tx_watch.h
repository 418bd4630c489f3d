/*
 * tx_watch.h — watches created by fdb_transaction_watch: pending until the
 * transaction commits, then handed to store_watch_add. Each record is
 * shared by its future and the store until both are done with it.
 */
#ifndef FOUND_ENGINE_TX_WATCH_H
#define FOUND_ENGINE_TX_WATCH_H

#include <stdint.h>
#include "util/base.h"
#include "storage/store.h"

typedef struct tx_watch tx_watch;

/* A new pending watch of key; *out_future is the caller's future. */
tx_watch *txw_new(const uint8_t *key, int key_len, FDBFuture **out_future);
/* Put x in front of list; returns the new list. */
tx_watch *txw_push(tx_watch *list, tx_watch *x);
/* How txw_capture reads a watched key's value (0 or an error); given by
 * the caller, so that watches do not depend on transactions. */
typedef int (*txw_read_fn)(void *ctx, const uint8_t *key, int key_len, int *present, const uint8_t **value,
                           int *value_len);
/* Record, for every watch of the list, the value read(ctx, key) gives:
 * the value the transaction leaves. */
int txw_capture(tx_watch *list, txw_read_fn read, void *ctx);
/* Register every watch of the list with the store (the list is consumed). */
void txw_activate(tx_watch *list, store *s, int limit);
/* Complete every watch of the list with err (the list is consumed). */
void txw_fail(tx_watch *list, int err);

#endif
