/*
 * arena.h — bump allocator for a transaction's pending writes, and a
 * growable array. Both are reset, not freed, between transactions so a
 * steady workload allocates nothing per operation.
 */
#ifndef FOUND_ENGINE_ARENA_H
#define FOUND_ENGINE_ARENA_H

#include <stddef.h>
#include <stdint.h>

typedef struct arena_chunk arena_chunk;

typedef struct arena {
    arena_chunk *head; /* chunk being filled; older chunks follow */
    size_t used;       /* bytes used in head */
    size_t total;      /* bytes handed out since the last reset */
} arena;

void arena_init(arena *a);
/* 8-byte aligned memory valid until arena_reset / arena_free; NULL on OOM. */
void *arena_alloc(arena *a, size_t n);
void *arena_dup(arena *a, const void *p, size_t n);
/* Forget everything but keep the first chunk for reuse. */
void arena_reset(arena *a);
void arena_free(arena *a);

typedef struct vec {
    void *items;
    size_t len, cap, item_size;
} vec;

void vec_init(vec *v, size_t item_size);
/* Append room for one item and return it (zeroed); NULL on OOM. */
void *vec_push(vec *v);
static inline void *vec_at(const vec *v, size_t i) { return (char *)v->items + i * v->item_size; }
void vec_clear(vec *v);
void vec_free(vec *v);

#endif
