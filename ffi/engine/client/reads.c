/*
 * reads.c — fdb_transaction_get / get_key / get_range and the other reads.
 * Every read runs in the caller's thread and returns a completed future.
 */
#include <stdlib.h>
#include <string.h>

#include "util/buggify.h"
#include "client/future.h"
#include "client/kv_out.h"
#include "client/selectors.h"
#include "client/special_keys.h"
#include "util/timer.h"
#include "client/transaction.h"
#include "client/view.h"

/* \xff/metadataVersion is readable without the system-key options. */
static const uint8_t METADATA_VERSION_KEY[] = "\xff/metadataVersion";
#define METADATA_VERSION_KEY_LEN 17

static void deliver_later(void *ctx) {
    FDBFuture *f = ctx;
    future_complete(f, f->err);
    future_release(f);
}

/* Complete a freshly built read result, now or (buggify) a little later. */
static FDBFuture *deliver(FDBFuture *f, int err) {
    if (buggify_fires(BUG_READ_LATENCY)) {
        f->err = err;
        future_retain(f);
        timer_after((1 + (int64_t)buggify_random(20)) * 1000000LL, deliver_later, f);
        return f;
    }
    future_set_ready_fresh(f, err);
    return f;
}

static int injected_read_error(void) {
    static const int codes[] = {FDB_ERR_TRANSACTION_TOO_OLD, FDB_ERR_FUTURE_VERSION}; /* FoundationDB's */
    return codes[buggify_random(2)];
}

/* Checks every read makes before touching data. */
static int read_prologue(FDBTransaction *tr) {
    int err = tx_check_usable(tr);
    if (!err) err = tx_ensure_snapshot(tr);
    if (!err && buggify_fires(BUG_READ_ERROR)) err = injected_read_error();
    return err;
}

/* tx_read_value once the snapshot is there. */
static int read_value(FDBTransaction *tr, const uint8_t *key, int key_len, int snapshot, int *present,
                      const uint8_t **value, int *value_len, int *from_store) {
    int err;
    ryw *w = tx_ryw_for_read(tr, snapshot);
    ryw_node *n = w ? ryw_find(w, key, key_len) : NULL;
    *from_store = 0;
    if (!n && w && ryw_clear_containing(w, key, key_len)) {
        *present = 0;
        *value = NULL;
        *value_len = 0;
        return 0;
    }
    if (w && (!n || n->kind != W_VALUE) && ryw_unreadable_at(w, key, key_len))
        return FDB_ERR_ACCESSED_UNREADABLE; /* a pending versionstamped key may land here */
    if (n && n->kind != W_OPS) return ryw_resolve(w, n, 0, NULL, 0, present, value, value_len);
    int found = 0, len = 0;
    const uint8_t *v = NULL;
    err = snapshot_get(tr->snap, key, key_len, &found, &v, &len);
    if (err) return err;
    *from_store = 1;
    if (n) return ryw_resolve(w, n, found, v, len, present, value, value_len);
    *present = found;
    *value = v;
    *value_len = len;
    return 0;
}

int tx_read_value(FDBTransaction *tr, const uint8_t *key, int key_len, int snapshot, int *present,
                  const uint8_t **value, int *value_len, int *from_store) {
    int err = tx_ensure_snapshot(tr);
    if (err) return err;
    return read_value(tr, key, key_len, snapshot, present, value, value_len, from_store);
}

/* What get_value_locked found. */
enum { GET_READ, GET_REFUSED, GET_SPECIAL };

/* fdb_transaction_get up to its result, under the transaction's lock:
 * GET_SPECIAL for the \xff\xff space (sk_get answers it), GET_REFUSED when
 * *err refuses the key before any read (a plain failed future), else
 * GET_READ with *err or the value (*present, *value, *len), which stays
 * valid while the lock is held. */
static int get_value_locked(FDBTransaction *tr, const uint8_t *key, int key_len, fdb_bool_t snapshot,
                            int *err, int *present, const uint8_t **value, int *len) {
    *err = tx_check_usable(tr);
    if (*err) return GET_REFUSED;
    if (sk_contains_key(key, key_len)) return GET_SPECIAL;
    const uint8_t *maxk;
    int max_len;
    tx_max_read_key(tr, &maxk, &max_len);
    if (bytes_cmp(key, key_len, maxk, max_len) >= 0 &&
        bytes_cmp(key, key_len, METADATA_VERSION_KEY, METADATA_VERSION_KEY_LEN) != 0) {
        *err = FDB_ERR_KEY_OUTSIDE_LEGAL_RANGE;
        return GET_REFUSED;
    }
    *present = 0;
    *value = NULL;
    *len = 0;
    /* No key that long can exist. */
    if (key_len > (key_len && key[0] == 0xff ? SYSTEM_KEY_SIZE_LIMIT : KEY_SIZE_LIMIT)) return GET_READ;
    /* read_prologue but its usability check, made above under the same lock */
    *err = tx_ensure_snapshot(tr);
    if (!*err && buggify_fires(BUG_READ_ERROR)) *err = injected_read_error();
    int from_store = 0;
    if (!*err) *err = read_value(tr, key, key_len, snapshot, present, value, len, &from_store);
    if (!*err && !snapshot && from_store) *err = tx_add_read_conflict_key(tr, key, key_len);
    return GET_READ;
}

/* A value future holding a copy of what get_value_locked found. */
static FDBFuture *value_future(int err, int present, const uint8_t *v, int len) {
    FDBFuture *f = future_new(FK_VALUE);
    if (!f) return future_error(FDB_ERR_INTERNAL_ERROR);
    if (!err && present) {
        if (!future_reserve(f, (size_t)len + 1))
            err = FDB_ERR_INTERNAL_ERROR;
        else if (len)
            memcpy(f->buf, v, (size_t)len);
    }
    f->present = present;
    f->buf_len = (size_t)len;
    return deliver(f, err);
}

static FDBFuture *get_locked(FDBTransaction *tr, const uint8_t *key, int key_len, fdb_bool_t snapshot) {
    int err = 0, present = 0, len = 0;
    const uint8_t *v = NULL;
    switch (get_value_locked(tr, key, key_len, snapshot, &err, &present, &v, &len)) {
    case GET_SPECIAL: return sk_get(tr, key, key_len);
    case GET_REFUSED: return future_error(err);
    default: return value_future(err, present, v, len);
    }
}

/* Reject selector keys beyond the readable space: 2004. */
static int check_selector_key(FDBTransaction *tr, const uint8_t *key, int key_len) {
    const uint8_t *maxk;
    int max_len;
    tx_max_read_key(tr, &maxk, &max_len);
    return bytes_cmp(key, key_len, maxk, max_len) > 0 ? FDB_ERR_KEY_OUTSIDE_LEGAL_RANGE : 0;
}

static int open_view(FDBTransaction *tr, int snapshot, view_iter *it) {
    store_cursor *cur;
    int err = tx_cursor(tr, &cur);
    if (err) return err;
    const uint8_t *maxk;
    int max_len;
    tx_max_read_key(tr, &maxk, &max_len);
    view_init(it, cur, tx_ryw_for_read(tr, snapshot), maxk, max_len);
    return 0;
}

/* 1036 when [a, b] (either order) may hold a pending versionstamped key. */
static int check_readable(FDBTransaction *tr, int snapshot, const uint8_t *a, int al, const uint8_t *b,
                          int bl) {
    ryw *w = tx_ryw_for_read(tr, snapshot);
    if (!w || !w->unreadable.count) return 0;
    if (bytes_cmp(a, al, b, bl) > 0) {
        const uint8_t *t = a;
        a = b;
        b = t;
        int tl = al;
        al = bl;
        bl = tl;
    }
    return ryw_unreadable_at(w, b, bl) || ryw_unreadable_within(w, a, al, b, bl) ? FDB_ERR_ACCESSED_UNREADABLE
                                                                                 : 0;
}

/* 1036 when the walk resolving a selector (from its key to where it
 * stopped) may have passed a pending versionstamped key. */
static int check_selector_readable(FDBTransaction *tr, int snapshot, const selector *sel, const uint8_t *res,
                                   int res_len) {
    if (selector_is_plain(sel)) return 0;
    return check_readable(tr, snapshot, sel->key, sel->key_len, res, res_len);
}

/* Read conflict over what resolving a selector looked at: from the
 * selector's key to the key it resolved to, both included. */
static int selector_conflict(FDBTransaction *tr, const selector *sel, const uint8_t *res, int res_len) {
    const uint8_t *lo = sel->key, *hi = res;
    int lo_len = sel->key_len, hi_len = res_len;
    if (bytes_cmp(lo, lo_len, hi, hi_len) > 0) {
        lo = res;
        lo_len = res_len;
        hi = sel->key;
        hi_len = sel->key_len;
    }
    uint8_t *end = arena_alloc(&tr->wr->a, (size_t)hi_len + 1);
    if (!end) return FDB_ERR_INTERNAL_ERROR;
    memcpy(end, hi, (size_t)hi_len);
    end[hi_len] = 0;
    return tx_add_read_conflict_ryw(tr, lo, lo_len, end, hi_len + 1);
}

static FDBFuture *get_key_locked(FDBTransaction *tr, const uint8_t *key, int key_len, fdb_bool_t or_equal,
                                 int offset, fdb_bool_t snapshot) {
    int err = tx_check_usable(tr);
    if (!err) err = check_selector_key(tr, key, key_len);
    if (err) return future_error(err);
    FDBFuture *f = future_new(FK_KEY);
    if (!f) return future_error(FDB_ERR_INTERNAL_ERROR);
    err = read_prologue(tr);
    view_iter it;
    if (!err) err = open_view(tr, snapshot, &it);
    selector sel = {key, key_len, or_equal, offset};
    const uint8_t *res = NULL;
    int res_len = 0;
    if (!err && selector_is_plain(&sel)) {
        /* get_key walks even for offset 1: it names an existing key */
        err = or_equal ? view_seek_gt(&it, key, key_len) : view_seek_ge(&it, key, key_len);
        if (!err && it.valid && it.unreadable) err = FDB_ERR_ACCESSED_UNREADABLE;
        if (!err) {
            res = it.valid ? it.key : it.max_key;
            res_len = it.valid ? it.key_len : it.max_len;
        }
    } else if (!err) {
        err = selector_resolve(&it, &sel, NULL, &res, &res_len); /* no scratch: not plain */
    }
    if (!err) err = check_readable(tr, snapshot, key, key_len, res, res_len);
    if (!err && !snapshot) err = selector_conflict(tr, &sel, res, res_len);
    if (!err) {
        if (!future_reserve(f, (size_t)res_len + 1))
            err = FDB_ERR_INTERNAL_ERROR;
        else {
            if (res_len) memcpy(f->buf, res, (size_t)res_len);
            f->buf_len = (size_t)res_len;
        }
    }
    return deliver(f, err);
}

/* Byte budget of one get_range call, as FoundationDB's streaming modes set it. */
static int range_byte_limit(int mode, int iteration, int target_bytes, int limit, int64_t *out) {
    static const int64_t mode_bytes[] = {0, 256, 1000, 4096, 80000}; /* exact .. serial */
    static const int64_t iterator_bytes[] = {4096,  6144,  9216,  13824, 20736,
                                             31104, 46656, 69984, 80000, 120000};
    if (mode == FDB_STREAMING_MODE_EXACT && limit <= 0 && target_bytes <= 0)
        return FDB_ERR_EXACT_MODE_WITHOUT_LIMITS;
    if (mode == FDB_STREAMING_MODE_WANT_ALL) mode = FDB_STREAMING_MODE_SERIAL;
    int64_t budget;
    if (mode == FDB_STREAMING_MODE_ITERATOR) {
        if (iteration <= 0) return FDB_ERR_CLIENT_INVALID_OPERATION;
        int n = (int)(sizeof iterator_bytes / sizeof iterator_bytes[0]);
        budget = iterator_bytes[(iteration > n ? n : iteration) - 1];
    } else if (mode >= FDB_STREAMING_MODE_EXACT && mode <= FDB_STREAMING_MODE_SERIAL) {
        budget = mode_bytes[mode];
    } else {
        return FDB_ERR_CLIENT_INVALID_OPERATION;
    }
    if (target_bytes > 0 && (budget == 0 || target_bytes < budget)) budget = target_bytes;
    *out = budget; /* 0: unlimited */
    return 0;
}

static int in_range(const view_iter *it, int reverse, const uint8_t *b, int bl, const uint8_t *e, int el) {
    if (!it->valid) return 0;
    return reverse ? bytes_cmp(it->key, it->key_len, b, bl) >= 0 : bytes_cmp(it->key, it->key_len, e, el) < 0;
}

/* The common forward read with no pending writes to merge: straight off
 * the store cursor. Same results as the view loop in get_range. */
static int scan_store(view_iter *it, const uint8_t *b, int bl, const uint8_t *e, int el, int limit,
                      int64_t byte_limit, range_out *o, int *more) {
    store_cursor *cur = it->cur;
    int valid = 0;
    int64_t bytes = 0;
    int to_max = bytes_cmp(e, el, it->max_key, it->max_len) >= 0; /* end at the bound: one test */
    int err = cursor_seek_ge(cur, b, bl, &valid);
    while (!err && valid) {
        const uint8_t *k, *v;
        int kl, vl;
        cursor_current(cur, &k, &kl, &v, &vl);
        if (to_max ? (kl && k[0] == 0xff && (it->max_len == 1 || (kl > 1 && k[1] == 0xff)))
                   : bytes_cmp(k, kl, e, el) >= 0)
            break;
        if ((limit && o->count >= limit) || (byte_limit && bytes >= byte_limit)) {
            *more = 1;
            break;
        }
        err = kv_out_append(o, k, kl, v, vl);
        bytes += kl + vl;
        if (!err) err = cursor_next(cur, &valid);
    }
    return err;
}

/* The same backwards, from the last key below e down to b. */
static int scan_store_reverse(view_iter *it, const uint8_t *b, int bl, const uint8_t *e, int el, int limit,
                              int64_t byte_limit, range_out *o, int *more) {
    store_cursor *cur = it->cur;
    int valid = 0;
    int64_t bytes = 0;
    if (bytes_cmp(e, el, it->max_key, it->max_len) > 0) {
        e = it->max_key;
        el = it->max_len;
    }
    int err = cursor_seek_lt(cur, e, el, &valid);
    while (!err && valid) {
        const uint8_t *k, *v;
        int kl, vl;
        cursor_current(cur, &k, &kl, &v, &vl);
        if (bytes_cmp(k, kl, b, bl) < 0) break;
        if ((limit && o->count >= limit) || (byte_limit && bytes >= byte_limit)) {
            *more = 1;
            break;
        }
        err = kv_out_append(o, k, kl, v, vl);
        bytes += kl + vl;
        if (!err) err = cursor_prev(cur, &valid);
    }
    return err;
}

/* 1036 when the part of [b, e) a range read covered may hold a pending
 * versionstamped key: all of it, or up to the last row returned when a
 * limit stopped the read early (what lies beyond was not read). */
static int check_covered_readable(FDBTransaction *tr, int snapshot, int reverse, int more, const range_out *o,
                                  const uint8_t *b, int bl, const uint8_t *e, int el) {
    ryw *w = tx_ryw_for_read(tr, snapshot);
    if (!w || !w->unreadable.count) return 0;
    if (more && o->count) {
        const FDBKeyValue *last = &o->f->kvs[o->count - 1];
        const uint8_t *lk = o->f->buf + (uintptr_t)last->key;
        int lkl = last->key_length;
        if (reverse) {
            b = lk;
            bl = lkl;
        } else {
            return check_readable(tr, snapshot, b, bl, lk, lkl); /* [b, last] */
        }
    }
    return ryw_unreadable_within(w, b, bl, e, el) ? FDB_ERR_ACCESSED_UNREADABLE : 0;
}

/* The conflict range a range read leaves: the whole range when it was read
 * to the end, else up to (and including) the last row returned. */
static int range_conflict(FDBTransaction *tr, int reverse, int more, const FDBFuture *f, int count,
                          const uint8_t *b, int bl, const uint8_t *e, int el) {
    if (!more || count == 0) return tx_add_read_conflict_ryw(tr, b, bl, e, el);
    const FDBKeyValue *last = &f->kvs[count - 1];
    const uint8_t *lk = f->buf + (uintptr_t)last->key;
    if (reverse) return tx_add_read_conflict_ryw(tr, lk, last->key_length, e, el);
    uint8_t *end = arena_alloc(&tr->wr->a, (size_t)last->key_length + 1);
    if (!end) return FDB_ERR_INTERNAL_ERROR;
    memcpy(end, lk, (size_t)last->key_length);
    end[last->key_length] = 0;
    return tx_add_read_conflict_ryw(tr, b, bl, end, last->key_length + 1);
}

static FDBFuture *get_range(FDBTransaction *tr, const selector *bsel, const selector *esel, int limit,
                            int target_bytes, int mode, int iteration, int snapshot, int reverse) {
    int err = tx_check_usable(tr);
    int64_t byte_limit = 0;
    if (!err && limit < 0) err = FDB_ERR_CLIENT_INVALID_OPERATION;
    if (!err) err = range_byte_limit(mode, iteration, target_bytes, limit, &byte_limit);
    if (!err && sk_routes_range(bsel->key, bsel->key_len, esel->key, esel->key_len))
        return sk_get_range(tr, bsel, esel, limit, byte_limit, reverse);
    if (!err) err = check_selector_key(tr, bsel->key, bsel->key_len);
    if (!err) err = check_selector_key(tr, esel->key, esel->key_len);
    if (err) return future_error(err);
    FDBFuture *f = future_new(FK_KV_ARRAY);
    if (!f) return future_error(FDB_ERR_INTERNAL_ERROR);
    err = read_prologue(tr);
    view_iter it;
    if (!err) err = open_view(tr, snapshot, &it);
    const uint8_t *b = NULL, *e = NULL;
    int bl = 0, el = 0;
    uint8_t *bscratch = NULL, *escratch = NULL;
    /* Room for "key + \0" bounds: scratch in the transaction's arena. */
    if (!err && (!(bscratch = arena_alloc(&tr->wr->a, (size_t)bsel->key_len + 1)) ||
                 !(escratch = arena_alloc(&tr->wr->a, (size_t)esel->key_len + 1))))
        err = FDB_ERR_INTERNAL_ERROR;
    if (!err) err = selector_resolve(&it, bsel, bscratch, &b, &bl);
    if (!err) err = selector_resolve(&it, esel, escratch, &e, &el);
    range_out o = {f, 0, 0};
    int more = 0;
    if (!err && byte_limit > 0 && byte_limit <= 1 << 20) {
        /* One allocation up front instead of a run of doublings. */
        if (!future_reserve(f, (size_t)byte_limit + 512) ||
            future_reserve_kvs(f, (size_t)byte_limit / 64 + 16))
            err = FDB_ERR_INTERNAL_ERROR;
    }
    if (!err) err = check_selector_readable(tr, snapshot, bsel, b, bl);
    if (!err) err = check_selector_readable(tr, snapshot, esel, e, el);
    if (!err && bytes_cmp(b, bl, e, el) < 0 && !it.w) {
        err = reverse ? scan_store_reverse(&it, b, bl, e, el, limit, byte_limit, &o, &more)
                      : scan_store(&it, b, bl, e, el, limit, byte_limit, &o, &more);
    } else if (!err && bytes_cmp(b, bl, e, el) < 0) {
        int64_t bytes = 0;
        err = reverse ? view_seek_lt(&it, e, el) : view_seek_ge(&it, b, bl);
        while (!err && in_range(&it, reverse, b, bl, e, el)) {
            if ((limit && o.count >= limit) || (byte_limit && bytes >= byte_limit)) {
                more = 1;
                break;
            }
            /* Only a row the read returns makes it fail: not one past its end or limit. */
            if (it.unreadable) {
                err = FDB_ERR_ACCESSED_UNREADABLE;
                break;
            }
            err = kv_out_append(&o, it.key, it.key_len, it.value, it.value_len);
            bytes += it.key_len + it.value_len;
            if (!err) err = reverse ? view_prev(&it) : view_next(&it);
        }
    }
    if (!err && bytes_cmp(b, bl, e, el) < 0)
        err = check_covered_readable(tr, snapshot, reverse, more, &o, b, bl, e, el);
    if (!err && !snapshot) {
        /* A selector that needed a walk depended on keys outside [b, e). */
        const uint8_t *cb = b, *ce = e;
        int cbl = bl, cel = el;
        if (!selector_is_plain(bsel) && bytes_cmp(bsel->key, bsel->key_len, cb, cbl) < 0) {
            cb = bsel->key;
            cbl = bsel->key_len;
        }
        if (!selector_is_plain(esel) && bytes_cmp(esel->key, esel->key_len, ce, cel) > 0) {
            ce = esel->key;
            cel = esel->key_len;
        }
        if (bytes_cmp(cb, cbl, ce, cel) < 0)
            err = range_conflict(tr, reverse, more, f, o.count, cb, cbl, ce, cel);
    }
    if (!err) {
        kv_out_finish(&o);
        f->more = more;
    } else {
        f->count = 0;
    }
    return deliver(f, err);
}

static FDBFuture *get_range_locked(FDBTransaction *tr, const uint8_t *begin_key, int begin_key_length,
                                   fdb_bool_t begin_or_equal, int begin_offset, const uint8_t *end_key,
                                   int end_key_length, fdb_bool_t end_or_equal, int end_offset, int limit,
                                   int target_bytes, int mode, int iteration, fdb_bool_t snapshot,
                                   fdb_bool_t reverse) {
    selector b = {begin_key, begin_key_length, begin_or_equal, begin_offset};
    selector e = {end_key, end_key_length, end_or_equal, end_offset};
    return get_range(tr, &b, &e, limit, target_bytes, mode, iteration, snapshot, reverse);
}

FDB_EXPORT FDBFuture *fdb_transaction_get_range_selector(
    FDBTransaction *tr, const uint8_t *begin_key, int begin_key_length, fdb_bool_t begin_or_equal,
    int begin_offset, const uint8_t *end_key, int end_key_length, fdb_bool_t end_or_equal, int end_offset,
    int limit, int target_bytes, int mode, int iteration, fdb_bool_t snapshot, fdb_bool_t reverse) {
    return fdb_transaction_get_range(tr, begin_key, begin_key_length, begin_or_equal, begin_offset, end_key,
                                     end_key_length, end_or_equal, end_offset, limit, target_bytes, mode,
                                     iteration, snapshot, reverse);
}

/* Mapped ranges need FoundationDB's server-side index mapper: unsupported. */
FDB_EXPORT FDBFuture *
fdb_transaction_get_mapped_range(FDBTransaction *tr, const uint8_t *begin_key, int begin_key_length,
                                 fdb_bool_t begin_or_equal, int begin_offset, const uint8_t *end_key,
                                 int end_key_length, fdb_bool_t end_or_equal, int end_offset,
                                 const uint8_t *mapper, int mapper_length, int limit, int target_bytes,
                                 int mode, int iteration, fdb_bool_t snapshot, fdb_bool_t reverse) {
    (void)tr;
    (void)begin_key;
    (void)begin_key_length;
    (void)begin_or_equal;
    (void)begin_offset;
    (void)end_key;
    (void)end_key_length;
    (void)end_or_equal;
    (void)end_offset;
    (void)mapper;
    (void)mapper_length;
    (void)limit;
    (void)target_bytes;
    (void)mode;
    (void)iteration;
    (void)snapshot;
    (void)reverse;
    return future_error(FDB_ERR_UNSUPPORTED_OPERATION);
}

static int check_range_keys(FDBTransaction *tr, const uint8_t *b, int bl, const uint8_t *e, int el) {
    int err = tx_check_usable(tr);
    if (!err && bytes_cmp(b, bl, e, el) > 0) err = FDB_ERR_INVERTED_RANGE;
    if (!err) err = check_selector_key(tr, b, bl);
    if (!err) err = check_selector_key(tr, e, el);
    if (!err) err = tx_ensure_snapshot(tr);
    return err;
}

static FDBFuture *get_estimated_range_size_bytes_locked(FDBTransaction *tr, const uint8_t *b, int bl,
                                                        const uint8_t *e, int el) {
    int err = check_range_keys(tr, b, bl, e, el);
    int64_t bytes = 0;
    if (!err) err = store_estimate_range(tr->snap, b, bl, e, el, &bytes);
    if (err) return future_error(err);
    FDBFuture *f = future_new(FK_INT64);
    if (!f) return future_error(FDB_ERR_INTERNAL_ERROR);
    f->u.i64 = bytes;
    future_set_ready_fresh(f, 0);
    return f;
}

/* Keys as an FDBKey array in f->kvs (room for an FDBKeyValue each) with
 * the bytes in f->buf. */
typedef struct key_out {
    FDBFuture *f;
    size_t used;
    int count;
} key_out;

static int append_key(key_out *o, const uint8_t *k, int kl) {
    if (future_reserve_kvs(o->f, (size_t)o->count + 1)) return FDB_ERR_INTERNAL_ERROR;
    if (!future_reserve(o->f, o->used + (size_t)kl + 1)) return FDB_ERR_INTERNAL_ERROR;
    memcpy(o->f->buf + o->used, k, (size_t)kl);
    FDBKey *keys = (FDBKey *)o->f->kvs;
    keys[o->count].key = (const uint8_t *)(uintptr_t)o->used;
    keys[o->count].key_length = kl;
    o->count++;
    o->used += (size_t)kl;
    return 0;
}

static void fix_keys(key_out *o) {
    FDBKey *keys = (FDBKey *)o->f->kvs;
    for (int i = 0; i < o->count; i++) keys[i].key = o->f->buf + (uintptr_t)keys[i].key;
    o->f->count = o->count;
    o->f->buf_len = o->used;
}

static FDBFuture *get_range_split_points_locked(FDBTransaction *tr, const uint8_t *b, int bl,
                                                const uint8_t *e, int el, int64_t chunk_size) {
    int err = check_range_keys(tr, b, bl, e, el);
    if (!err && chunk_size <= 0) err = FDB_ERR_INVALID_OPTION_VALUE;
    if (err) return future_error(err);
    FDBFuture *f = future_new(FK_KEY_ARRAY);
    if (!f) return future_error(FDB_ERR_INTERNAL_ERROR);
    key_out o = {f, 0, 0};
    store_cursor *cur = NULL;
    err = tx_cursor(tr, &cur);
    if (!err) err = append_key(&o, b, bl);
    int valid = 0;
    if (!err) err = cursor_seek_ge(cur, b, bl, &valid);
    int64_t acc = 0;
    while (!err && valid) {
        const uint8_t *k, *v;
        int kl, vl;
        cursor_current(cur, &k, &kl, &v, &vl);
        if (bytes_cmp(k, kl, e, el) >= 0) break;
        if (acc >= chunk_size && bytes_cmp(k, kl, b, bl) > 0) {
            err = append_key(&o, k, kl);
            acc = 0;
        }
        acc += kl + vl;
        if (!err) err = cursor_next(cur, &valid);
    }
    if (!err) err = append_key(&o, e, el);
    if (!err) fix_keys(&o);
    future_set_ready_fresh(f, err);
    return f;
}

/* One process holds all the data: a single pseudo address. */
#define LOCAL_ADDRESS "127.0.0.1:0"

static FDBFuture *get_addresses_for_key_locked(FDBTransaction *tr, const uint8_t *key, int key_len) {
    (void)key;
    (void)key_len;
    int err = tx_check_usable(tr);
    if (err) return future_error(err);
    FDBFuture *f = future_new(FK_STRING_ARRAY);
    if (!f) return future_error(FDB_ERR_INTERNAL_ERROR);
    if (future_reserve_kvs(f, 1) || !future_reserve(f, sizeof LOCAL_ADDRESS)) {
        future_set_ready_fresh(f, FDB_ERR_INTERNAL_ERROR);
        return f;
    }
    memcpy(f->buf, LOCAL_ADDRESS, sizeof LOCAL_ADDRESS);
    ((const char **)(void *)f->kvs)[0] = (const char *)f->buf;
    f->count = 1;
    future_set_ready_fresh(f, 0);
    return f;
}

/* ---- entry points: one caller at a time per transaction ---- */

FDB_EXPORT FDBFuture *fdb_transaction_get(FDBTransaction *tr, const uint8_t *key, int key_len,
                                          fdb_bool_t snapshot) {
    tx_enter(tr);
    FDBFuture *result = get_locked(tr, bytes_or_empty(key), key_len, snapshot);
    tx_leave(tr);
    return result;
}

/* The engine's get without a future when it can (docs/engine.md): a value
 * that fits in buf (cap bytes) is copied there under the transaction's lock,
 * *length is set (-1: absent) and so is *err (0 or the read's error), and
 * NULL is returned. Otherwise the future fdb_transaction_get would return:
 * the \xff\xff space, a value longer than cap, and every read while client
 * buggify is on (an injected read latency needs a future). The read itself
 * (checks, read-your-writes, the conflict range, errors) is the same one. */
FDB_EXPORT FDBFuture *found_engine_get_into(FDBTransaction *tr, const uint8_t *key, int key_len,
                                            fdb_bool_t snapshot, uint8_t *buf, int cap, int *length,
                                            fdb_error_t *err) {
    if (buggify_enabled) return fdb_transaction_get(tr, key, key_len, snapshot);
    key = bytes_or_empty(key);
    int e = 0, present = 0, len = 0;
    const uint8_t *v = NULL;
    FDBFuture *f = NULL;
    tx_enter(tr);
    int kind = get_value_locked(tr, key, key_len, snapshot, &e, &present, &v, &len);
    if (kind == GET_SPECIAL) {
        f = sk_get(tr, key, key_len);
    } else if (!e && present && len > cap) {
        f = value_future(0, present, v, len);
    } else {
        *err = e;
        *length = !e && present ? len : -1;
        if (*length > 0) memcpy(buf, v, (size_t)len);
    }
    tx_leave(tr);
    return f;
}

FDB_EXPORT FDBFuture *fdb_transaction_get_key(FDBTransaction *tr, const uint8_t *key, int key_len,
                                              fdb_bool_t or_equal, int offset, fdb_bool_t snapshot) {
    tx_enter(tr);
    FDBFuture *result = get_key_locked(tr, bytes_or_empty(key), key_len, or_equal, offset, snapshot);
    tx_leave(tr);
    return result;
}

FDB_EXPORT FDBFuture *fdb_transaction_get_range(FDBTransaction *tr, const uint8_t *begin_key,
                                                int begin_key_length, fdb_bool_t begin_or_equal,
                                                int begin_offset, const uint8_t *end_key, int end_key_length,
                                                fdb_bool_t end_or_equal, int end_offset, int limit,
                                                int target_bytes, int mode, int iteration,
                                                fdb_bool_t snapshot, fdb_bool_t reverse) {
    tx_enter(tr);
    FDBFuture *result = get_range_locked(tr, bytes_or_empty(begin_key), begin_key_length, begin_or_equal,
                                         begin_offset, bytes_or_empty(end_key), end_key_length, end_or_equal,
                                         end_offset, limit, target_bytes, mode, iteration, snapshot, reverse);
    tx_leave(tr);
    return result;
}

FDB_EXPORT FDBFuture *fdb_transaction_get_estimated_range_size_bytes(FDBTransaction *tr, const uint8_t *b,
                                                                     int bl, const uint8_t *e, int el) {
    tx_enter(tr);
    FDBFuture *result =
        get_estimated_range_size_bytes_locked(tr, bytes_or_empty(b), bl, bytes_or_empty(e), el);
    tx_leave(tr);
    return result;
}

FDB_EXPORT FDBFuture *fdb_transaction_get_range_split_points(FDBTransaction *tr, const uint8_t *b, int bl,
                                                             const uint8_t *e, int el, int64_t chunk_size) {
    tx_enter(tr);
    FDBFuture *result =
        get_range_split_points_locked(tr, bytes_or_empty(b), bl, bytes_or_empty(e), el, chunk_size);
    tx_leave(tr);
    return result;
}

FDB_EXPORT FDBFuture *fdb_transaction_get_addresses_for_key(FDBTransaction *tr, const uint8_t *key,
                                                            int key_len) {
    tx_enter(tr);
    FDBFuture *result = get_addresses_for_key_locked(tr, bytes_or_empty(key), key_len);
    tx_leave(tr);
    return result;
}
