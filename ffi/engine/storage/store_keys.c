/*
 * store_keys.c — how user keys map onto LMDB records.
 *
 * LMDB keys are 1..511 bytes; FoundationDB keys are 0..10,000+. So:
 *   short key (<= STORE_MAX_KEY bytes): record 0x00 ‖ key → value
 *   long key: shares a "bucket" record 0x00 ‖ key[0:STORE_MAX_KEY] ‖ 0xFF
 *             whose value holds every long key with that prefix, sorted:
 *             entries [u32 key_len][u32 value_len][key][value] (little-endian)
 * A bucket record sorts after every short key <= its prefix and before every
 * short key above it, exactly where its long keys belong, so LMDB's order is
 * the user order. Long keys are rare; buckets are rewritten whole.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/gen_errors.h"
#include "storage/store_internal.h"

static uint32_t u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

void store_bucket_key(const uint8_t *key, uint8_t *buf, MDB_val *out) {
    store_encode_key(key, STORE_MAX_KEY, buf, out);
    buf[STORE_MAX_KEY + 1] = 0xFF;
    out->mv_size = STORE_BUCKET_KEY;
}

int store_bucket_entry(const MDB_val *b, size_t off, bucket_entry *e) {
    const uint8_t *p = b->mv_data;
    if (off == b->mv_size) return 1;
    if (b->mv_size - off < 8) return -1;
    uint32_t kl = u32(p + off), vl = u32(p + off + 4);
    if (b->mv_size - off - 8 < (uint64_t)kl + vl) return -1;
    e->key = p + off + 8;
    e->key_len = (int)kl;
    e->val = e->key + kl;
    e->val_len = (int)vl;
    e->off = off;
    e->next = off + 8 + kl + vl;
    return 0;
}

int store_bucket_seek(const MDB_val *b, const uint8_t *key, int key_len, size_t *off) {
    bucket_entry e;
    size_t at = 0;
    int rc;
    while (!(rc = store_bucket_entry(b, at, &e)) && store_user_cmp(e.key, e.key_len, key, key_len) < 0)
        at = e.next;
    *off = at;
    return rc < 0 ? FDB_ERR_FILE_CORRUPT : 0;
}

int store_data_get(MDB_txn *txn, store *s, const uint8_t *key, int key_len, int *found, const uint8_t **value,
                   int *value_len) {
    uint8_t buf[STORE_BUCKET_KEY];
    MDB_val k, v;
    int long_key = key_len > STORE_MAX_KEY;
    *found = 0;
    if (long_key)
        store_bucket_key(key, buf, &k);
    else
        store_encode_key(key, key_len, buf, &k);
    int rc = mdb_get(txn, s->data, &k, &v);
    if (rc == MDB_NOTFOUND) return 0;
    if (rc) return store_lmdb_error(rc);
    if (long_key) {
        bucket_entry e;
        size_t off;
        if (store_bucket_seek(&v, key, key_len, &off)) return FDB_ERR_FILE_CORRUPT;
        if (store_bucket_entry(&v, off, &e) || store_user_cmp(e.key, e.key_len, key, key_len)) return 0;
        v.mv_data = (void *)e.val;
        v.mv_size = (size_t)e.val_len;
    }
    *found = 1;
    *value = v.mv_data;
    *value_len = (int)v.mv_size;
    return 0;
}

/* Write bucket `k` as old[0:cut_from] ‖ (key, value) ‖ old[cut_to:], or
 * delete it when that is empty. `key` NULL inserts nothing. */
static int bucket_rewrite(MDB_txn *txn, store *s, MDB_val *k, const MDB_val *old, size_t cut_from,
                          size_t cut_to, const uint8_t *key, int key_len, const uint8_t *val, int val_len) {
    size_t head = cut_from, tail = old->mv_size - cut_to;
    size_t mid = key ? 8 + (size_t)key_len + (size_t)val_len : 0;
    if (!head && !tail && !mid) {
        int rc = mdb_del(txn, s->data, k, NULL);
        return rc == MDB_NOTFOUND ? 0 : rc;
    }
    uint8_t *buf = malloc(head + mid + tail);
    if (!buf) return ENOMEM;
    if (head) memcpy(buf, old->mv_data, head);
    if (key) {
        put_u32(buf + head, (uint32_t)key_len);
        put_u32(buf + head + 4, (uint32_t)val_len);
        memcpy(buf + head + 8, key, (size_t)key_len);
        if (val_len) memcpy(buf + head + 8 + key_len, val, (size_t)val_len);
    }
    if (tail) memcpy(buf + head + mid, (const uint8_t *)old->mv_data + cut_to, tail);
    MDB_val v = {head + mid + tail, buf};
    int rc = mdb_put(txn, s->data, k, &v, 0);
    free(buf);
    return rc;
}

/* Set (val != NULL) or delete the long key `key` in its bucket. */
static int bucket_update(MDB_txn *txn, store *s, const uint8_t *key, int key_len, const uint8_t *val,
                         int val_len) {
    uint8_t kb[STORE_BUCKET_KEY];
    MDB_val k, old = {0, NULL};
    bucket_entry e;
    size_t off;
    store_bucket_key(key, kb, &k);
    int rc = mdb_get(txn, s->data, &k, &old);
    if (rc == MDB_NOTFOUND && !val) return 0;
    if (rc && rc != MDB_NOTFOUND) return rc;
    if (store_bucket_seek(&old, key, key_len, &off)) return MDB_CORRUPTED;
    size_t end = off;
    if (!store_bucket_entry(&old, off, &e) && !store_user_cmp(e.key, e.key_len, key, key_len))
        end = e.next;
    else if (!val)
        return 0;
    return bucket_rewrite(txn, s, &k, &old, off, end, val ? key : NULL, key_len, val, val_len);
}

/* Put a key shorter than STORE_MAX_KEY. Its sample entry is its own and
 * exists only while the key does, kept: one search finds the old value (if
 * any) and places the cursor for the write, and the sample is touched only
 * when the key is or was kept. */
static int put_short(MDB_txn *txn, store *s, MDB_cursor **cursor, const uint8_t *key, int key_len,
                     const uint8_t *val, int val_len) {
    uint8_t kb[STORE_BUCKET_KEY];
    MDB_val k, v = {(size_t)val_len, (void *)val};
    store_encode_key(key, key_len, kb, &k);
    int rc = *cursor ? 0 : mdb_cursor_open(txn, s->data, cursor);
    if (rc) return rc;
    int old_len = -1;
    rc = mdb_cursor_put(*cursor, &k, &v, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST) { /* v holds the old value; the cursor is on it */
        old_len = (int)v.mv_size;
        v = (MDB_val){(size_t)val_len, (void *)val};
        rc = mdb_cursor_put(*cursor, &k, &v, MDB_CURRENT);
    }
    return rc ? rc : store_sample_replace(txn, s, key, key_len, old_len, val_len);
}

int store_data_put(MDB_txn *txn, store *s, MDB_cursor **cursor, const uint8_t *key, int key_len,
                   const uint8_t *val, int val_len) {
    if (key_len < STORE_MAX_KEY) return put_short(txn, s, cursor, key, key_len, val, val_len);
    int rc = store_sample_note(txn, s, key, key_len, val_len);
    if (rc) return rc;
    if (key_len > STORE_MAX_KEY)
        return bucket_update(txn, s, key, key_len, val ? val : (const uint8_t *)"", val_len);
    uint8_t kb[STORE_BUCKET_KEY];
    MDB_val k, v = {(size_t)val_len, (void *)val};
    store_encode_key(key, key_len, kb, &k);
    return mdb_put(txn, s->data, &k, &v, 0);
}

int store_data_del(MDB_txn *txn, store *s, const uint8_t *key, int key_len) {
    int rc = store_sample_forget(txn, s, key, key_len);
    if (rc) return rc;
    if (key_len > STORE_MAX_KEY) return bucket_update(txn, s, key, key_len, NULL, 0);
    uint8_t kb[STORE_BUCKET_KEY];
    MDB_val k;
    store_encode_key(key, key_len, kb, &k);
    rc = mdb_del(txn, s->data, &k, NULL);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* Clear the entries of bucket `k` (value `v`) inside [b, e). Sets *past_end
 * when the bucket holds keys >= e, so nothing after it can be in range. */
static int bucket_clear(MDB_txn *txn, store *s, MDB_val *k, const MDB_val *v, const uint8_t *b, int bl,
                        const uint8_t *e, int el, int *past_end) {
    size_t from, to;
    if (store_bucket_seek(v, b, bl, &from) || store_bucket_seek(v, e, el, &to)) return MDB_CORRUPTED;
    *past_end = to < v->mv_size;
    if (from == to) return 0;
    return bucket_rewrite(txn, s, k, v, from, to, NULL, 0, NULL, 0);
}

int store_data_clear_range(MDB_txn *txn, store *s, const uint8_t *b, int bl, const uint8_t *e, int el) {
    uint8_t kb[STORE_BUCKET_KEY], seen[STORE_BUCKET_KEY];
    MDB_cursor *c;
    MDB_val k, v;
    if (store_user_cmp(b, bl, e, el) >= 0) return 0;
    int rc = store_sample_clear(txn, s, b, bl, e, el);
    if (rc) return rc;
    /* The first record that can hold keys >= b: its short-key prefix. */
    store_encode_key(b, bl > STORE_MAX_KEY ? STORE_MAX_KEY : bl, kb, &k);
    if ((rc = mdb_cursor_open(txn, s->data, &c))) return rc;
    for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); !rc;) {
        if (k.mv_size == STORE_BUCKET_KEY) {
            int past_end = 0;
            memcpy(seen, k.mv_data, STORE_BUCKET_KEY);
            MDB_val sk = {STORE_BUCKET_KEY, seen};
            if ((rc = bucket_clear(txn, s, &sk, &v, b, bl, e, el, &past_end)) || past_end) break;
            /* the bucket may have been rewritten: find the record after it */
            k = sk;
            rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
            if (!rc && k.mv_size == STORE_BUCKET_KEY && !memcmp(k.mv_data, seen, STORE_BUCKET_KEY))
                rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
            continue;
        }
        const uint8_t *uk = (const uint8_t *)k.mv_data + 1;
        int ul = (int)k.mv_size - 1;
        if (store_user_cmp(uk, ul, e, el) >= 0) break;
        if (store_user_cmp(uk, ul, b, bl) < 0) { /* the truncated prefix of a long b */
            rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
            continue;
        }
        if ((rc = mdb_cursor_del(c, 0))) break;
        rc = mdb_cursor_get(c, &k, &v, MDB_GET_CURRENT);
        if (rc == EINVAL) rc = MDB_NOTFOUND; /* deleted the last record: cursor unset */
    }
    mdb_cursor_close(c);
    return rc == MDB_NOTFOUND ? 0 : rc;
}
