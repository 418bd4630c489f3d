/* ryw.c — the read-your-writes write map (see ryw.h): two skip lists. */
#include "client/ryw.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "util/atomic.h"
#include "util/base.h"

#define SKIP_MAX_LEVEL 16

static inline int ryw_cmp(const uint8_t *a, int alen, const uint8_t *b, int blen) {
    return bytes_cmp(a, alen, b, blen);
}

static int add_range(ryw *w, skiplist *s, const uint8_t *begin, int begin_len, const uint8_t *end,
                     int end_len);

static ryw_node *node_new(arena *a, int level) {
    ryw_node *n = arena_alloc(a, sizeof(ryw_node) + (size_t)level * sizeof(ryw_node *));
    if (!n) return NULL;
    memset(n, 0, sizeof(ryw_node) + (size_t)level * sizeof(ryw_node *));
    n->level = level;
    return n;
}

static int skip_init(skiplist *s, arena *a, uint32_t seed) {
    s->head = node_new(a, SKIP_MAX_LEVEL);
    s->level = 1;
    s->rng = seed;
    s->count = 0;
    return s->head ? 0 : FDB_ERR_INTERNAL_ERROR;
}

static int random_level(skiplist *s) {
    uint32_t x = s->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    s->rng = x;
    int level = 1;
    /* One more level per two zero bits: p = 1/4. */
    while (level < SKIP_MAX_LEVEL && (x & 3) == 0) {
        level++;
        x >>= 2;
    }
    return level;
}

/* Fills update[i] with the last node < key at each level; returns the first
 * node >= key (or NULL). */
static ryw_node *search(const skiplist *s, const uint8_t *key, int key_len, ryw_node **update) {
    assert(s->level >= 1 && s->level <= SKIP_MAX_LEVEL); /* so update[0 .. level) is always filled */
    ryw_node *x = s->head;
    for (int i = s->level - 1; i >= 0; i--) {
        while (x->next[i] && ryw_cmp(x->next[i]->key, x->next[i]->key_len, key, key_len) < 0) x = x->next[i];
        if (update) update[i] = x;
    }
    return x->next[0];
}

static ryw_node *find_or_insert(skiplist *s, arena *a, const uint8_t *key, int key_len, int *created) {
    ryw_node *update[SKIP_MAX_LEVEL];
    ryw_node *n = search(s, key, key_len, update);
    *created = 0;
    if (n && ryw_cmp(n->key, n->key_len, key, key_len) == 0) return n;
    int level = random_level(s);
    for (int i = s->level; i < level; i++) update[i] = s->head;
    if (level > s->level) s->level = level;
    n = node_new(a, level);
    if (!n) return NULL;
    n->key = arena_dup(a, key, (size_t)key_len);
    if (!n->key) return NULL;
    n->key_len = key_len;
    for (int i = 0; i < level; i++) {
        n->next[i] = update[i]->next[i];
        update[i]->next[i] = n;
    }
    n->prev = update[0] == s->head ? NULL : update[0];
    if (n->next[0]) n->next[0]->prev = n;
    s->count++;
    *created = 1;
    return n;
}

static void ryw_remove(skiplist *s, ryw_node *target) {
    ryw_node *update[SKIP_MAX_LEVEL];
    search(s, target->key, target->key_len, update);
    for (int i = 0; i < s->level; i++) {
        if (update[i]->next[i] == target) update[i]->next[i] = target->next[i];
    }
    if (target->next[0]) target->next[0]->prev = target->prev;
    s->count--;
}

int ryw_init(ryw *w, arena *a) {
    w->a = a;
    int err = skip_init(&w->points, a, 0x9e3779b9u);
    if (!err) err = skip_init(&w->clears, a, 0x85ebca6bu);
    if (!err) err = skip_init(&w->unreadable, a, 0xc2b2ae35u);
    return err;
}

void ryw_free_scratch(ryw *w) {
    free(w->scratch[0]);
    free(w->scratch[1]);
    w->scratch[0] = w->scratch[1] = NULL;
}

ryw_node *ryw_find(ryw *w, const uint8_t *key, int key_len) {
    if (!w->points.count) return NULL;
    ryw_node *n = search(&w->points, key, key_len, NULL);
    return n && ryw_cmp(n->key, n->key_len, key, key_len) == 0 ? n : NULL;
}

ryw_node *ryw_seek_ge(ryw *w, const uint8_t *key, int key_len) {
    if (!w->points.count) return NULL;
    return search(&w->points, key, key_len, NULL);
}

ryw_node *ryw_seek_lt(ryw *w, const uint8_t *key, int key_len) {
    if (!w->points.count) return NULL;
    ryw_node *update[SKIP_MAX_LEVEL];
    if (!key) {
        ryw_node *x = w->points.head;
        for (int i = w->points.level - 1; i >= 0; i--)
            while (x->next[i]) x = x->next[i];
        return x == w->points.head ? NULL : x;
    }
    search(&w->points, key, key_len, update);
    return update[0] == w->points.head ? NULL : update[0];
}

/* The range of the set `s` holding key, or NULL. */
static ryw_node *range_containing(const skiplist *s, const uint8_t *key, int key_len) {
    if (!s->count) return NULL;
    ryw_node *update[SKIP_MAX_LEVEL];
    ryw_node *n = search(s, key, key_len, update);
    if (n && ryw_cmp(n->key, n->key_len, key, key_len) == 0) return n;
    ryw_node *before = update[0];
    if (before != s->head && ryw_cmp(key, key_len, before->end, before->end_len) < 0) return before;
    return NULL;
}

ryw_node *ryw_clear_containing(ryw *w, const uint8_t *key, int key_len) {
    return range_containing(&w->clears, key, key_len);
}

int ryw_unreadable_at(ryw *w, const uint8_t *key, int key_len) {
    return range_containing(&w->unreadable, key, key_len) != NULL;
}

int ryw_unreadable_within(ryw *w, const uint8_t *begin, int begin_len, const uint8_t *end, int end_len) {
    if (!w->unreadable.count) return 0;
    if (range_containing(&w->unreadable, begin, begin_len)) return 1;
    ryw_node *n = search(&w->unreadable, begin, begin_len, NULL);
    return n && ryw_cmp(n->key, n->key_len, end, end_len) < 0;
}

ryw_node *ryw_clear_from(ryw *w, const uint8_t *key, int key_len) {
    if (!w->clears.count) return NULL;
    ryw_node *c = ryw_clear_containing(w, key, key_len);
    return c ? c : search(&w->clears, key, key_len, NULL);
}

int ryw_mark_unreadable_range(ryw *w, const uint8_t *begin, int begin_len, const uint8_t *end, int end_len) {
    if (ryw_cmp(begin, begin_len, end, end_len) >= 0) return 0;
    return add_range(w, &w->unreadable, begin, begin_len, end, end_len);
}

int ryw_set(ryw *w, const uint8_t *key, int key_len, const uint8_t *value, int value_len) {
    int created;
    ryw_node *n = find_or_insert(&w->points, w->a, key, key_len, &created);
    if (!n) return FDB_ERR_INTERNAL_ERROR;
    n->kind = W_VALUE;
    n->present = 1;
    n->value = arena_dup(w->a, value, (size_t)value_len);
    if (!n->value) return FDB_ERR_INTERNAL_ERROR;
    n->value_len = value_len;
    n->ops = n->ops_tail = NULL;
    return 0;
}

int ryw_mark_unreadable(ryw *w, const uint8_t *key, int key_len) {
    int created;
    ryw_node *n = find_or_insert(&w->points, w->a, key, key_len, &created);
    if (!n) return FDB_ERR_INTERNAL_ERROR;
    n->kind = W_UNREADABLE;
    n->ops = n->ops_tail = NULL;
    return 0;
}

/* Add [begin, end) to the range set `s`, merging with every range that
 * overlaps or touches it. */
static int add_range(ryw *w, skiplist *s, const uint8_t *begin, int begin_len, const uint8_t *end,
                     int end_len) {
    ryw_node *first = range_containing(s, begin, begin_len);
    if (!first) {
        ryw_node *update[SKIP_MAX_LEVEL];
        search(s, begin, begin_len, update);
        ryw_node *before = update[0];
        if (before != s->head && ryw_cmp(before->end, before->end_len, begin, begin_len) == 0) first = before;
    }
    if (!first) {
        int created;
        first = find_or_insert(s, w->a, begin, begin_len, &created);
        if (!first) return FDB_ERR_INTERNAL_ERROR;
        first->end = NULL;
        first->end_len = -1;
    }
    if (first->end_len < 0 || ryw_cmp(first->end, first->end_len, end, end_len) < 0) {
        first->end = arena_dup(w->a, end, (size_t)end_len);
        if (!first->end) return FDB_ERR_INTERNAL_ERROR;
        first->end_len = end_len;
    }
    ryw_node *n = first->next[0];
    while (n && ryw_cmp(n->key, n->key_len, first->end, first->end_len) <= 0) {
        ryw_node *next = n->next[0];
        if (ryw_cmp(first->end, first->end_len, n->end, n->end_len) < 0) {
            first->end = n->end;
            first->end_len = n->end_len;
        }
        ryw_remove(s, n);
        n = next;
    }
    return 0;
}

int ryw_clear_range(ryw *w, const uint8_t *begin, int begin_len, const uint8_t *end, int end_len) {
    if (ryw_cmp(begin, begin_len, end, end_len) >= 0) return 0;
    int err = add_range(w, &w->clears, begin, begin_len, end, end_len);
    if (err) return err;
    for (ryw_node *n = ryw_seek_ge(w, begin, begin_len); n && ryw_cmp(n->key, n->key_len, end, end_len) < 0;
         n = n->next[0]) {
        n->kind = W_VALUE;
        n->present = 0;
        n->value = NULL;
        n->value_len = 0;
        n->ops = n->ops_tail = NULL;
    }
    return 0;
}

static int ensure_scratch(ryw *w) {
    for (int i = 0; i < 2; i++) {
        if (!w->scratch[i]) {
            w->scratch[i] = malloc(ATOMIC_MAX_RESULT);
            if (!w->scratch[i]) return FDB_ERR_INTERNAL_ERROR;
        }
    }
    return 0;
}

int ryw_atomic(ryw *w, const uint8_t *key, int key_len, int op, const uint8_t *param, int param_len) {
    int created;
    ryw_node *n = find_or_insert(&w->points, w->a, key, key_len, &created);
    if (!n) return FDB_ERR_INTERNAL_ERROR;
    if (created) {
        if (ryw_clear_containing(w, key, key_len)) {
            n->kind = W_VALUE; /* cleared earlier in this transaction */
            n->present = 0;
        } else {
            n->kind = W_OPS;
        }
    }
    if (n->kind == W_UNREADABLE) return 0;
    const uint8_t *p = arena_dup(w->a, param, (size_t)param_len);
    if (!p) return FDB_ERR_INTERNAL_ERROR;
    if (n->kind == W_VALUE) {
        int err = ensure_scratch(w);
        if (err) return err;
        int out_len = 0, out_present = 0;
        err = atomic_apply(op, n->present, n->value, n->value_len, p, param_len, w->scratch[0], &out_len,
                           &out_present);
        if (err) return err;
        n->present = out_present;
        n->value = out_present ? arena_dup(w->a, w->scratch[0], (size_t)out_len) : NULL;
        n->value_len = out_present ? out_len : 0;
        if (out_present && !n->value) return FDB_ERR_INTERNAL_ERROR;
        return 0;
    }
    ryw_op *o = arena_alloc(w->a, sizeof(ryw_op));
    if (!o) return FDB_ERR_INTERNAL_ERROR;
    o->next = NULL;
    o->op = op;
    o->param = p;
    o->param_len = param_len;
    if (n->ops_tail)
        n->ops_tail->next = o;
    else
        n->ops = o;
    n->ops_tail = o;
    return 0;
}

int ryw_resolve(ryw *w, const ryw_node *n, int base_present, const uint8_t *base, int base_len, int *present,
                const uint8_t **value, int *value_len) {
    if (n->kind == W_UNREADABLE) return FDB_ERR_ACCESSED_UNREADABLE;
    if (n->kind == W_VALUE) {
        *present = n->present;
        *value = n->value;
        *value_len = n->value_len;
        return 0;
    }
    int err = ensure_scratch(w);
    if (err) return err;
    int cur_present = base_present, cur_len = base_len, which = 0;
    const uint8_t *cur = base;
    for (const ryw_op *o = n->ops; o; o = o->next) {
        uint8_t *out = w->scratch[which];
        int out_len = 0, out_present = 0;
        err = atomic_apply(o->op, cur_present, cur, cur_len, o->param, o->param_len, out, &out_len,
                           &out_present);
        if (err) return err;
        cur = out;
        cur_len = out_len;
        cur_present = out_present;
        which ^= 1;
    }
    *present = cur_present;
    *value = cur_present ? cur : NULL;
    *value_len = cur_present ? cur_len : 0;
    return 0;
}
