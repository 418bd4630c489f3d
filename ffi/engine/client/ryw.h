/*
 * ryw.h — a transaction's pending writes, kept so its own reads see them
 * (read-your-writes): point entries (a known value, a known absence, or a
 * chain of atomic operations over a value still to be read) and a set of
 * cleared ranges. Everything lives in the transaction's arena.
 */
#ifndef FOUND_ENGINE_RYW_H
#define FOUND_ENGINE_RYW_H

#include <stdint.h>
#include "util/arena.h"

enum ryw_kind {
    W_VALUE = 0,      /* value known: present/absent + bytes */
    W_OPS = 1,        /* atomic ops over the database's value (unknown here) */
    W_UNREADABLE = 2, /* set_versionstamped_value: bytes known only at commit */
};

typedef struct ryw_op {
    struct ryw_op *next;
    int op;
    const uint8_t *param;
    int param_len;
} ryw_op;

typedef struct ryw_node {
    const uint8_t *key;
    int key_len;
    int kind;
    int present; /* W_VALUE */
    const uint8_t *value;
    int value_len;
    ryw_op *ops, *ops_tail; /* W_OPS */
    const uint8_t *end;
    int end_len; /* in the clear set: end of [key, end) */
    struct ryw_node *prev;
    int level;
    struct ryw_node *next[];
} ryw_node;

typedef struct skiplist {
    ryw_node *head;
    int level;
    uint32_t rng;
    size_t count;
} skiplist;

typedef struct ryw {
    arena *a;
    skiplist points;
    skiplist clears;     /* disjoint, non-touching [key, end) ranges */
    skiplist unreadable; /* where pending versionstamped keys may land */
    uint8_t *scratch[2]; /* atomic results while reading (lazily malloc'd) */
} ryw;

int ryw_init(ryw *w, arena *a); /* after arena_reset too */
void ryw_free_scratch(ryw *w);
static inline int ryw_empty(const ryw *w) {
    return w->points.count == 0 && w->clears.count == 0 && w->unreadable.count == 0;
}

/* Writes; return 0 or an FDB error code (4100 on out-of-memory). */
int ryw_set(ryw *w, const uint8_t *key, int key_len, const uint8_t *value, int value_len);
int ryw_clear_range(ryw *w, const uint8_t *begin, int begin_len, const uint8_t *end, int end_len);
int ryw_atomic(ryw *w, const uint8_t *key, int key_len, int op, const uint8_t *param, int param_len);
int ryw_mark_unreadable(ryw *w, const uint8_t *key, int key_len);

/* A pending set_versionstamped_key may land anywhere in [begin, end):
 * reading there is 1036 accessed_unreadable until commit. */
int ryw_mark_unreadable_range(ryw *w, const uint8_t *begin, int begin_len, const uint8_t *end, int end_len);
/* 1 when key / some key of [begin, end) is in an unreadable range. */
int ryw_unreadable_at(ryw *w, const uint8_t *key, int key_len);
int ryw_unreadable_within(ryw *w, const uint8_t *begin, int begin_len, const uint8_t *end, int end_len);

/* Exact lookup in the point entries; NULL when absent. */
ryw_node *ryw_find(ryw *w, const uint8_t *key, int key_len);
/* First point entry >= key / last point entry < key (key NULL → end). */
ryw_node *ryw_seek_ge(ryw *w, const uint8_t *key, int key_len);
ryw_node *ryw_seek_lt(ryw *w, const uint8_t *key, int key_len);
static inline ryw_node *ryw_next(ryw_node *n) { return n->next[0]; }

/* The cleared range holding key, or NULL. */
ryw_node *ryw_clear_containing(ryw *w, const uint8_t *key, int key_len);

/* The cleared range holding key, else the first one after it, or NULL. */
ryw_node *ryw_clear_from(ryw *w, const uint8_t *key, int key_len);

/* The value a point entry gives when the database holds (base_present,
 * base). Sets *present and *value (which may point into scratch memory
 * valid until the next call). Returns 0, 1036 accessed_unreadable or 4100. */
int ryw_resolve(ryw *w, const ryw_node *n, int base_present, const uint8_t *base, int base_len, int *present,
                const uint8_t **value, int *value_len);

#endif
