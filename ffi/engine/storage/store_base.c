/*
 * store_base.c — the storage core's leaf helpers, used by every other file
 * of storage/ and using none of them: LMDB's errors as FoundationDB's, the
 * meta records, and the user key order and its record encoding.
 */
#include <errno.h>
#include <string.h>

#include "util/gen_errors.h"
#include "storage/store_internal.h"

int store_lmdb_error(int rc) {
    switch (rc) {
    case 0: return 0;
    case ENOENT: return FDB_ERR_FILE_NOT_FOUND;
    case EACCES:
    case EROFS: return FDB_ERR_FILE_NOT_WRITABLE;
    case MDB_INVALID:
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_VERSION_MISMATCH:
    case MDB_BAD_TXN: return FDB_ERR_FILE_CORRUPT;
    case MDB_BAD_VALSIZE: return FDB_ERR_KEY_TOO_LARGE;
    default: return FDB_ERR_IO_ERROR; /* MDB_MAP_FULL, ENOSPC, EIO, ... */
    }
}

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
