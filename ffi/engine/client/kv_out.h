/*
 * kv_out.h — building a key-value array result (FK_KV_ARRAY) row by row:
 * keys and values are copied into the future's buffer, which may move while
 * it grows, so rows keep offsets until kv_out_finish turns them into pointers.
 */
#ifndef FOUND_ENGINE_KV_OUT_H
#define FOUND_ENGINE_KV_OUT_H

#include <string.h>

#include "client/future.h"

typedef struct range_out {
    FDBFuture *f;
    size_t used;
    int count;
} range_out;

static inline int kv_out_append(range_out *o, const uint8_t *k, int kl, const uint8_t *v, int vl) {
    FDBFuture *f = o->f;
    size_t need = o->used + (size_t)kl + (size_t)vl;
    /* Growing is the rare case: check capacity inline first. */
    if ((size_t)o->count >= f->kvs_cap && future_reserve_kvs(f, (size_t)o->count + 1))
        return FDB_ERR_INTERNAL_ERROR;
    if (need > f->buf_cap && !future_reserve(f, need)) return FDB_ERR_INTERNAL_ERROR;
    if (kl) memcpy(f->buf + o->used, k, (size_t)kl);
    if (vl) memcpy(f->buf + o->used + kl, v, (size_t)vl);
    /* offsets for now: the buffer may still move */
    FDBKeyValue *kv = &f->kvs[o->count++];
    kv->key = (const uint8_t *)(uintptr_t)o->used;
    kv->key_length = kl;
    kv->value = (const uint8_t *)(uintptr_t)(o->used + (size_t)kl);
    kv->value_length = vl;
    o->used = need;
    return 0;
}

static inline void kv_out_finish(range_out *o) {
    FDBFuture *f = o->f;
    for (int i = 0; i < o->count; i++) {
        f->kvs[i].key = f->buf + (uintptr_t)f->kvs[i].key;
        f->kvs[i].value = f->buf + (uintptr_t)f->kvs[i].value;
    }
    f->count = o->count;
    f->buf_len = o->used;
}

#endif
