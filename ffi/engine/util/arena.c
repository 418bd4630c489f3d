/* arena.c — see arena.h. */
#include "util/arena.h"

#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK_MIN 16384

struct arena_chunk {
    arena_chunk *next;
    size_t size;
    _Alignas(8) unsigned char data[];
};

void arena_init(arena *a) {
    a->head = NULL;
    a->used = 0;
    a->total = 0;
}

static arena_chunk *new_chunk(size_t need) {
    size_t size = need > ARENA_CHUNK_MIN ? need : ARENA_CHUNK_MIN;
    arena_chunk *c = malloc(sizeof(arena_chunk) + size);
    if (c) {
        c->size = size;
        c->next = NULL;
    }
    return c;
}

void *arena_alloc(arena *a, size_t n) {
    n = (n + 7) & ~(size_t)7;
    if (!a->head || a->used + n > a->head->size) {
        /* Big requests get their own chunk behind the head so the partly
         * filled head keeps serving small ones. */
        arena_chunk *c = new_chunk(n);
        if (!c) return NULL;
        if (a->head && n > ARENA_CHUNK_MIN / 4) {
            c->next = a->head->next;
            a->head->next = c;
            a->total += n;
            return c->data;
        }
        c->next = a->head;
        a->head = c;
        a->used = 0;
    }
    void *p = a->head->data + a->used;
    a->used += n;
    a->total += n;
    return p;
}

void *arena_dup(arena *a, const void *p, size_t n) {
    void *q = arena_alloc(a, n ? n : 1);
    if (q && n) memcpy(q, p, n);
    return q;
}

void arena_reset(arena *a) {
    arena_chunk *keep = NULL;
    arena_chunk *c = a->head;
    while (c) {
        arena_chunk *next = c->next;
        if (!keep && c->size == ARENA_CHUNK_MIN) {
            keep = c;
            keep->next = NULL;
        } else {
            free(c);
        }
        c = next;
    }
    a->head = keep;
    a->used = 0;
    a->total = 0;
}

void arena_free(arena *a) {
    arena_chunk *c = a->head;
    while (c) {
        arena_chunk *next = c->next;
        free(c);
        c = next;
    }
    arena_init(a);
}

void vec_init(vec *v, size_t item_size) {
    v->items = NULL;
    v->len = v->cap = 0;
    v->item_size = item_size;
}

void *vec_push(vec *v) {
    if (v->len == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        void *items = realloc(v->items, cap * v->item_size);
        if (!items) return NULL;
        v->items = items;
        v->cap = cap;
    }
    void *p = vec_at(v, v->len++);
    memset(p, 0, v->item_size);
    return p;
}

void vec_clear(vec *v) {
    /* Keep modest buffers for reuse; give back large ones. */
    if (v->cap * v->item_size > 32768) {
        free(v->items);
        v->items = NULL;
        v->cap = 0;
    }
    v->len = 0;
}

void vec_free(vec *v) {
    free(v->items);
    vec_init(v, v->item_size);
}
