/*
 * view.h — an ordered iterator over what a transaction sees: the store
 * snapshot merged with its pending writes (cleared ranges hide stored keys,
 * point entries replace or derive from them), bounded above by the largest
 * readable key — always \xff, or \xff\xff with system-key access (the bound
 * test in view.c relies on it).
 */
#ifndef FOUND_ENGINE_VIEW_H
#define FOUND_ENGINE_VIEW_H

#include <stdint.h>
#include "client/ryw.h"
#include "storage/store.h"

typedef struct view_iter {
    store_cursor *cur;
    ryw *w; /* NULL: snapshot only */
    const uint8_t *max_key;
    int max_len;
    int dir; /* +1 after a forward move, -1 after a backward one */
    int s_valid;
    ryw_node *wn;
    int valid;
    const uint8_t *key;
    int key_len;
    const uint8_t *value;
    int value_len; /* valid until the next move */
    int from_store, from_w;
    int unreadable;       /* the row's value is a pending versionstamp: using it is 1036 */
    int depends_on_store; /* some visible row came from stored data */
} view_iter;

void view_init(view_iter *it, store_cursor *cur, ryw *w, const uint8_t *max_key, int max_len);
/* Each returns 0 or a store error and sets it->valid. A row holding a
 * pending versionstamped value is visited like any other with
 * it->unreadable set: the caller decides whether its read uses the row
 * (then 1036 accessed_unreadable) or stops before it. */
int view_seek_ge(view_iter *it, const uint8_t *key, int key_len);
int view_seek_gt(view_iter *it, const uint8_t *key, int key_len);
int view_seek_lt(view_iter *it, const uint8_t *key, int key_len); /* key NULL: the last row */
int view_seek_le(view_iter *it, const uint8_t *key, int key_len);
int view_next(view_iter *it);
int view_prev(view_iter *it);

#endif
