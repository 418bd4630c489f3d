/*
 * store_sample.c — the byte sample behind store_estimate_range, in the
 * spirit of FoundationDB's storage servers: each key is kept in the
 * "sample" database with probability min(1, size / STORE_SAMPLE_BYTES),
 * decided by a hash of the key (so a key's fate is the same every time it is
 * written), and weighted by size / probability. The sum of weights over a
 * range estimates its bytes without walking the data; small ranges are
 * walked exactly instead (store_read.c).
 *
 * Sample keys are the user key cut to STORE_MAX_KEY bytes: long keys that
 * share that prefix share one sample entry (an approximation).
 */
#include <errno.h>
#include <string.h>

#include "storage/store_internal.h"

static uint64_t hash(const uint8_t *p, int n) {
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a, then a final mix */
    for (int i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

static void sample_key(const uint8_t *key, int key_len, uint8_t *buf, MDB_val *k) {
    store_encode_key(key, key_len > STORE_MAX_KEY ? STORE_MAX_KEY : key_len, buf, k);
}

/* Whether a key of this size is in the sample: when hash / 2^64 < size /
 * STORE_SAMPLE_BYTES. */
static int kept(const uint8_t *key, int key_len, uint64_t size) {
    return size >= STORE_SAMPLE_BYTES || (hash(key, key_len) >> 32) * STORE_SAMPLE_BYTES < size << 32;
}

static int sample_put(MDB_txn *txn, store *s, MDB_val *k, uint64_t size) {
    uint64_t weight = size >= STORE_SAMPLE_BYTES ? size : STORE_SAMPLE_BYTES;
    MDB_val v = {sizeof weight, &weight};
    return mdb_put(txn, s->sample, k, &v, 0);
}

int store_sample_note(MDB_txn *txn, store *s, const uint8_t *key, int key_len, int val_len) {
    uint8_t kb[STORE_BUCKET_KEY];
    MDB_val k;
    uint64_t size = (uint64_t)key_len + (uint64_t)val_len;
    sample_key(key, key_len, kb, &k);
    if (kept(key, key_len, size)) return sample_put(txn, s, &k, size);
    int rc = mdb_del(txn, s->sample, &k, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_sample_replace(MDB_txn *txn, store *s, const uint8_t *key, int key_len, int old_val_len,
                         int val_len) {
    uint8_t kb[STORE_BUCKET_KEY];
    MDB_val k;
    uint64_t size = (uint64_t)key_len + (uint64_t)val_len;
    int now = kept(key, key_len, size);
    /* an entry exists only when the old pair was kept: nothing to delete
     * otherwise (the B-tree search of a delete that finds nothing is most
     * of what sampling cost a write) */
    if (!now && (old_val_len < 0 || !kept(key, key_len, (uint64_t)key_len + (uint64_t)old_val_len))) return 0;
    sample_key(key, key_len, kb, &k);
    if (now) return sample_put(txn, s, &k, size);
    int rc = mdb_del(txn, s->sample, &k, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_sample_forget(MDB_txn *txn, store *s, const uint8_t *key, int key_len) {
    uint8_t kb[STORE_BUCKET_KEY];
    MDB_val k;
    sample_key(key, key_len, kb, &k);
    int rc = mdb_del(txn, s->sample, &k, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Visit sample entries with keys in [b, e): delete them (del) or add their
 * weights to *sum. */
static int sample_range(MDB_txn *txn, store *s, const uint8_t *b, int bl, const uint8_t *e, int el, int del,
                        int64_t *sum) {
    uint8_t kb[STORE_BUCKET_KEY];
    MDB_cursor *c;
    MDB_val k, v;
    sample_key(b, bl, kb, &k);
    int rc = mdb_cursor_open(txn, s->sample, &c);
    if (rc) return rc;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); !rc;) {
        if (store_user_cmp((const uint8_t *)k.mv_data + 1, (int)k.mv_size - 1, e, el) >= 0) break;
        if (!del) {
            uint64_t w = 0;
            if (v.mv_size == sizeof w) memcpy(&w, v.mv_data, sizeof w);
            *sum += (int64_t)w;
            rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
            continue;
        }
        if ((rc = mdb_cursor_del(c, 0))) break;
        rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT);
        if (rc == EINVAL) rc = MDB_NOTFOUND; /* deleted the last entry: cursor unset */
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

int store_sample_clear(MDB_txn *txn, store *s, const uint8_t *b, int bl, const uint8_t *e, int el) {
    return sample_range(txn, s, b, bl, e, el, 1, NULL);
}

int store_sample_sum(MDB_txn *txn, store *s, const uint8_t *b, int bl, const uint8_t *e, int el,
                     int64_t *sum) {
    *sum = 0;
    return sample_range(txn, s, b, bl, e, el, 0, sum);
}
