/*
 * conflicts.c — the conflict history shared by every process: for each
 * committed transaction, its write ranges, keyed by commit version (8 bytes
 * big-endian) and batch index (2 bytes big-endian) in the "hist" database.
 *
 * A transaction conflicts when one of its read ranges meets a write range
 * committed after its read version. History older than
 * STORE_HISTORY_VERSIONS is pruned; "floor" in "meta" records the newest
 * pruned version, and read versions below it get transaction_too_old.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/gen_errors.h"
#include "storage/store_internal.h"

#define PRUNE_STEP 1000000 /* prune about once per second of versions */

static int conflicts_cmp(const uint8_t *a, int a_len, const uint8_t *b, int b_len) {
    int c = memcmp(a, b, (size_t)(a_len < b_len ? a_len : b_len));
    return c ? c : (a_len > b_len) - (a_len < b_len);
}

static int begin_cmp(const void *x, const void *y) {
    const key_range *a = x, *b = y;
    return conflicts_cmp(a->begin, a->begin_len, b->begin, b->begin_len);
}

/* A request's read ranges, sorted by begin and merged where they overlap
 * or touch, so that the merged ends rise too: whether a write range meets
 * any of them is one binary search, however many reads a transaction made. */
int conflicts_reads_prepare(const key_range *reads, int n, read_set *out) {
    out->r = malloc(sizeof *out->r * (size_t)(n ? n : 1));
    out->n = 0;
    if (!out->r) return ENOMEM;
    if (n) memcpy(out->r, reads, sizeof *reads * (size_t)n);
    qsort(out->r, (size_t)n, sizeof *out->r, begin_cmp);
    for (int i = 0; i < n; i++) {
        key_range r = out->r[i];
        if (conflicts_cmp(r.begin, r.begin_len, r.end, r.end_len) >= 0) continue; /* empty */
        key_range *last = out->n ? &out->r[out->n - 1] : NULL;
        if (last && conflicts_cmp(r.begin, r.begin_len, last->end, last->end_len) <= 0) {
            if (conflicts_cmp(r.end, r.end_len, last->end, last->end_len) > 0)
                last->end = r.end, last->end_len = r.end_len;
        } else {
            out->r[out->n++] = r;
        }
    }
    return 0;
}

void conflicts_reads_free(read_set *rs) {
    free(rs->r);
    rs->r = NULL;
}

int conflicts_reads_meet(const read_set *rs, const uint8_t *b, int bl, const uint8_t *e, int el) {
    if (conflicts_cmp(b, bl, e, el) >= 0) return 0;
    int lo = 0, hi = rs->n; /* the first merged read ending after b */
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (conflicts_cmp(rs->r[mid].end, rs->r[mid].end_len, b, bl) > 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo < rs->n && conflicts_cmp(rs->r[lo].begin, rs->r[lo].begin_len, e, el) < 0;
}

int conflicts_ranges_meet(const read_set *rs, const key_range *w, int n) {
    for (int i = 0; i < n; i++)
        if (conflicts_reads_meet(rs, w[i].begin, w[i].begin_len, w[i].end, w[i].end_len)) return 1;
    return 0;
}

static void put_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void hist_key(uint8_t kb[10], int64_t version, uint16_t index) {
    for (int i = 0; i < 8; i++) kb[i] = (uint8_t)((uint64_t)version >> (56 - 8 * i));
    kb[8] = (uint8_t)(index >> 8);
    kb[9] = (uint8_t)index;
}

static int64_t hist_version(const MDB_val *k) {
    uint64_t v = 0;
    for (int i = 0; i < 8 && i < (int)k->mv_size; i++) v = v << 8 | ((const uint8_t *)k->mv_data)[i];
    return (int64_t)v;
}

static uint8_t *put_ranges(uint8_t *p, const key_range *r, int n) {
    for (int i = 0; i < n; i++) {
        put_u32(p, (uint32_t)r[i].begin_len);
        memcpy(p + 4, r[i].begin, (size_t)r[i].begin_len);
        p += 4 + r[i].begin_len;
        put_u32(p, (uint32_t)r[i].end_len);
        memcpy(p + 4, r[i].end, (size_t)r[i].end_len);
        p += 4 + r[i].end_len;
    }
    return p;
}

int conflicts_record(MDB_txn *txn, store *s, int64_t version, const key_range *const *lists,
                     const int *counts, int n_lists) {
    size_t size = 0;
    for (int l = 0; l < n_lists; l++)
        for (int i = 0; i < counts[l]; i++)
            size += 8 + (size_t)lists[l][i].begin_len + (size_t)lists[l][i].end_len;
    uint8_t kb[10];
    hist_key(kb, version, 0);
    MDB_val k = {sizeof kb, kb}, v = {size, NULL};
    int rc = mdb_put(txn, s->hist, &k, &v, MDB_RESERVE);
    if (rc) return rc;
    uint8_t *p = v.mv_data;
    for (int l = 0; l < n_lists; l++) p = put_ranges(p, lists[l], counts[l]);
    return 0;
}

/* 1 when any range encoded in `v` meets one of the reads; -1 when `v` is malformed. */
static int entry_meets(const MDB_val *v, const read_set *rs) {
    const uint8_t *p = v->mv_data, *end = p + v->mv_size;
    while (p < end) {
        if (end - p < 4) return -1;
        uint32_t bl = get_u32(p);
        if ((size_t)(end - p - 4) < bl + 4) return -1;
        const uint8_t *b = p + 4;
        uint32_t el = get_u32(b + bl);
        const uint8_t *e = b + bl + 4;
        if ((size_t)(end - e) < el) return -1;
        if (conflicts_reads_meet(rs, b, (int)bl, e, (int)el)) return 1;
        p = e + el;
    }
    return 0;
}

int conflicts_floor(MDB_txn *txn, store *s, int64_t *floor) {
    return store_meta_get_i64(txn, s, "floor", floor);
}

int conflicts_check(MDB_txn *txn, store *s, const commit_request *req, read_set *rs, int *conflict) {
    uint8_t kb[10];
    MDB_cursor *c;
    MDB_val k = {sizeof kb, kb}, v;
    *conflict = 0;
    hist_key(kb, req->read_version + 1, 0);
    int rc = mdb_cursor_open(txn, s->hist, &c);
    if (rc) return rc;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); !rc; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (!rs->r && (rc = conflicts_reads_prepare(req->reads, req->n_reads, rs))) break;
        int m = entry_meets(&v, rs);
        if (m < 0) {
            rc = MDB_CORRUPTED;
            break;
        }
        if (m) {
            *conflict = 1;
            break;
        }
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_conflicting_reads(store *s, int64_t read_version, const key_range *reads, int n,
                            unsigned char *hit) {
    MDB_txn *txn;
    MDB_cursor *c = NULL;
    uint8_t kb[10];
    MDB_val k = {sizeof kb, kb}, v;
    hist_key(kb, read_version + 1, 0);
    int rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn);
    if (rc) return store_lmdb_error(rc);
    rc = mdb_cursor_open(txn, s->hist, &c);
    for (rc = rc ? rc : mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); !rc;
         rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        for (int i = 0; i < n && !rc; i++) {
            read_set one = {(key_range *)&reads[i], 1};
            int m = hit[i] ? 1 : entry_meets(&v, &one);
            if (m < 0)
                rc = MDB_CORRUPTED;
            else
                hit[i] = (unsigned char)m;
        }
        if (rc) break;
    }
    if (c) mdb_cursor_close(c);
    mdb_txn_abort(txn);
    return rc == MDB_NOTFOUND ? 0 : store_lmdb_error(rc);
}

int conflicts_prune(MDB_txn *txn, store *s, int64_t version) {
    int64_t floor, cutoff = version - STORE_HISTORY_VERSIONS;
    int rc = conflicts_floor(txn, s, &floor);
    if (rc || cutoff < floor + PRUNE_STEP) return rc;
    MDB_cursor *c;
    MDB_val k, v;
    rc = mdb_cursor_open(txn, s->hist, &c);
    if (rc) return rc;
    /* The floor is the newest version actually pruned, not the cutoff: with
     * no commit for a while, an old read version has lost no history and
     * must not get transaction_too_old (or, its read version not advancing
     * without commits, every read-write transaction would fail for ever). */
    int64_t pruned = floor;
    while (!(rc = mdb_cursor_get(c, &k, &v, MDB_FIRST)) && hist_version(&k) <= cutoff) {
        pruned = hist_version(&k);
        if ((rc = mdb_cursor_del(c, 0))) break;
    }
    mdb_cursor_close(c);
    if (rc && rc != MDB_NOTFOUND) return rc;
    return pruned == floor ? 0 : store_meta_put_i64(txn, s, "floor", pruned);
}
