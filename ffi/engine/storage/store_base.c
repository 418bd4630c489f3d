/*
 * store_base.c — the storage core's leaf helpers, used by every other file
 * of storage/ and using none of them: the meta records, and the user key
 * order and its record encoding (LMDB's errors as FoundationDB's are the
 * inline store_lmdb_error of store_internal.h).
 */
#include <string.h>

#include "storage/store_internal.h"

int store_meta_get_i64(MDB_txn *txn, store *s, const char *name, int64_t *out) {
    MDB_val k = {strlen(name), (void *)name}, v;
    int rc = mdb_get(txn, s->meta, &k, &v);
    if (rc) return rc;
    if (v.mv_size != 8) return MDB_CORRUPTED;
    memcpy(out, v.mv_data, 8);
    return 0;
}

int store_meta_put_i64(MDB_txn *txn, store *s, const char *name, int64_t v) {
    MDB_val k = {strlen(name), (void *)name}, d = {8, &v};
    return mdb_put(txn, s->meta, &k, &d, 0);
}

int store_user_cmp(const uint8_t *a, int a_len, const uint8_t *b, int b_len) {
    int c = memcmp(a, b, (size_t)(a_len < b_len ? a_len : b_len));
    return c ? c : (a_len > b_len) - (a_len < b_len);
}

void store_encode_key(const uint8_t *key, int key_len, uint8_t *buf, MDB_val *out) {
    buf[0] = STORE_KEY_PREFIX;
    if (key_len) memcpy(buf + 1, key, (size_t)key_len);
    out->mv_data = buf;
    out->mv_size = (size_t)key_len + 1;
}
