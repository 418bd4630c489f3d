/* selectors.c — see selectors.h. */
#include "client/selectors.h"

#include <string.h>

#include "util/base.h"

static int plain(const view_iter *it, const selector *sel, uint8_t *scratch, const uint8_t **out,
                 int *out_len) {
    const uint8_t *k = sel->key;
    int kl = sel->key_len;
    if (sel->or_equal) {
        /* first row > key: the bound key + \0 */
        memcpy(scratch, k, (size_t)kl);
        scratch[kl] = 0;
        k = scratch;
        kl++;
    }
    if (bytes_cmp(k, kl, it->max_key, it->max_len) > 0) {
        k = it->max_key;
        kl = it->max_len;
    }
    *out = k;
    *out_len = kl;
    return 0;
}

/* Every row a walk lands on counts towards the offset, so the walk reads
 * it: a row whose value is a pending versionstamp cannot be counted. */
static int counted(const view_iter *it) {
    return it->valid && it->unreadable ? FDB_ERR_ACCESSED_UNREADABLE : 0;
}

int selector_resolve(view_iter *it, const selector *sel, uint8_t *scratch, const uint8_t **out,
                     int *out_len) {
    if (selector_is_plain(sel)) return plain(it, sel, scratch, out, out_len);
    int steps = sel->offset - 1;
    int err;
    if (steps >= 0) {
        err = sel->or_equal ? view_seek_gt(it, sel->key, sel->key_len)
                            : view_seek_ge(it, sel->key, sel->key_len);
        if (!err) err = counted(it);
        for (int i = 0; !err && it->valid && i < steps; i++)
            if (!(err = view_next(it))) err = counted(it);
    } else {
        /* The row just before the start: last row <= key or < key. */
        err = sel->or_equal ? view_seek_le(it, sel->key, sel->key_len)
                            : view_seek_lt(it, sel->key, sel->key_len);
        if (!err) err = counted(it);
        for (int i = 0; !err && it->valid && i < -steps - 1; i++)
            if (!(err = view_prev(it))) err = counted(it);
    }
    if (err) return err;
    if (it->valid) {
        *out = it->key;
        *out_len = it->key_len;
    } else if (steps >= 0) {
        *out = it->max_key;
        *out_len = it->max_len;
    } else {
        *out = (const uint8_t *)"";
        *out_len = 0;
    }
    return 0;
}
