/* view.c — see view.h. */
#include "client/view.h"

#include "util/base.h"

void view_init(view_iter *it, store_cursor *cur, ryw *w, const uint8_t *max_key, int max_len) {
    memset(it, 0, sizeof *it);
    it->cur = cur;
    it->w = w && !ryw_empty(w) ? w : NULL;
    it->max_key = max_key;
    it->max_len = max_len;
}

static int below_max(const view_iter *it, const uint8_t *k, int kl) {
    /* The bound is \xff or \xff\xff: decided by at most two bytes. */
    if (kl == 0 || k[0] != 0xff) return 1;
    if (it->max_len == 1) return 0;
    return kl == 1 || k[1] != 0xff;
}

/* Stop on a key whose pending versionstamped value is known only at
 * commit. Its value is not an error yet: only a read that goes on to use
 * the row fails (1036), not one that stops before it (a range end, a
 * limit). */
static int settle_unreadable(view_iter *it, int store_has_key) {
    it->key = it->wn->key;
    it->key_len = it->wn->key_len;
    it->value = NULL;
    it->value_len = 0;
    it->from_store = store_has_key;
    it->from_w = 1;
    it->unreadable = 1;
    it->valid = 1;
    return 0;
}

/* Stop on a stored row that no pending write touches. */
static int settle_store_row(view_iter *it, const uint8_t *k, int kl, const uint8_t *v, int vl) {
    it->key = k;
    it->key_len = kl;
    it->value = v;
    it->value_len = vl;
    it->from_store = 1;
    it->from_w = 0;
    it->unreadable = 0;
    it->valid = 1;
    it->depends_on_store = 1;
    return 0;
}

/* The pending write node it->wn meets the cursor (`on_store`: same key).
 * Sets *settled when it yields a visible row (or an unreadable one); a
 * node that hides its key (a clear, compare_and_clear…) leaves it unset. */
static int settle_pending(view_iter *it, int on_store, const uint8_t *sv, int svl, int *settled) {
    *settled = 1;
    if (it->wn->kind == W_UNREADABLE) return settle_unreadable(it, on_store);
    int present = 0, vl = 0;
    const uint8_t *v = NULL;
    int err = ryw_resolve(it->w, it->wn, on_store, sv, svl, &present, &v, &vl);
    if (err) return err;
    if (it->wn->kind == W_OPS) it->depends_on_store = 1;
    if (!present) {
        *settled = 0;
        return 0;
    }
    it->key = it->wn->key;
    it->key_len = it->wn->key_len;
    it->value = v;
    it->value_len = vl;
    it->from_store = on_store;
    it->from_w = 1;
    it->unreadable = 0;
    it->valid = 1;
    return 0;
}

/* Settle on the first visible row at or after both sources' positions. */
static int settle_forward(view_iter *it) {
    it->dir = 1;
    for (;;) {
        const uint8_t *sk = NULL, *sv = NULL;
        int skl = 0, svl = 0;
        if (it->s_valid) {
            cursor_current(it->cur, &sk, &skl, &sv, &svl);
            if (!below_max(it, sk, skl)) it->s_valid = 0;
        }
        if (it->wn && !below_max(it, it->wn->key, it->wn->key_len)) it->wn = NULL;
        if (!it->s_valid && !it->wn) {
            it->valid = 0;
            return 0;
        }
        int c = !it->s_valid ? 1 : !it->wn ? -1 : bytes_cmp(sk, skl, it->wn->key, it->wn->key_len);
        if (c < 0) {
            ryw_node *cleared = it->w ? ryw_clear_containing(it->w, sk, skl) : NULL;
            if (cleared) {
                int err = cursor_seek_ge(it->cur, cleared->end, cleared->end_len, &it->s_valid);
                if (err) return err;
                continue;
            }
            return settle_store_row(it, sk, skl, sv, svl);
        }
        int settled, err = settle_pending(it, c == 0, sv, svl, &settled);
        if (err || settled) return err;
        it->wn = ryw_next(it->wn);
        if (c == 0 && (err = cursor_next(it->cur, &it->s_valid))) return err;
    }
}

/* Settle on the last visible row at or before both sources' positions. */
static int settle_backward(view_iter *it) {
    it->dir = -1;
    for (;;) {
        const uint8_t *sk = NULL, *sv = NULL;
        int skl = 0, svl = 0;
        if (it->s_valid) {
            cursor_current(it->cur, &sk, &skl, &sv, &svl);
            if (!below_max(it, sk, skl)) {
                /* Only possible right after a seek from beyond the bound. */
                int err = cursor_seek_lt(it->cur, it->max_key, it->max_len, &it->s_valid);
                if (err) return err;
                continue;
            }
        }
        while (it->wn && !below_max(it, it->wn->key, it->wn->key_len)) it->wn = it->wn->prev;
        if (!it->s_valid && !it->wn) {
            it->valid = 0;
            return 0;
        }
        int c = !it->s_valid ? -1 : !it->wn ? 1 : bytes_cmp(sk, skl, it->wn->key, it->wn->key_len);
        if (c > 0) {
            ryw_node *cleared = it->w ? ryw_clear_containing(it->w, sk, skl) : NULL;
            if (cleared) {
                int err = cursor_seek_lt(it->cur, cleared->key, cleared->key_len, &it->s_valid);
                if (err) return err;
                continue;
            }
            return settle_store_row(it, sk, skl, sv, svl);
        }
        int settled, err = settle_pending(it, c == 0, sv, svl, &settled);
        if (err || settled) return err;
        it->wn = it->wn->prev;
        if (c == 0 && (err = cursor_prev(it->cur, &it->s_valid))) return err;
    }
}

int view_seek_ge(view_iter *it, const uint8_t *key, int key_len) {
    int err = cursor_seek_ge(it->cur, key, key_len, &it->s_valid);
    if (err) return err;
    it->wn = it->w ? ryw_seek_ge(it->w, key, key_len) : NULL;
    return settle_forward(it);
}

int view_seek_gt(view_iter *it, const uint8_t *key, int key_len) {
    int err = cursor_seek_ge(it->cur, key, key_len, &it->s_valid);
    if (err) return err;
    if (it->s_valid) {
        const uint8_t *sk, *sv;
        int skl, svl;
        cursor_current(it->cur, &sk, &skl, &sv, &svl);
        if (bytes_cmp(sk, skl, key, key_len) == 0 && (err = cursor_next(it->cur, &it->s_valid))) return err;
    }
    it->wn = it->w ? ryw_seek_ge(it->w, key, key_len) : NULL;
    if (it->wn && bytes_cmp(it->wn->key, it->wn->key_len, key, key_len) == 0) it->wn = ryw_next(it->wn);
    return settle_forward(it);
}

int view_seek_lt(view_iter *it, const uint8_t *key, int key_len) {
    if (!key || bytes_cmp(key, key_len, it->max_key, it->max_len) > 0) {
        key = it->max_key;
        key_len = it->max_len;
    }
    int err = cursor_seek_lt(it->cur, key, key_len, &it->s_valid);
    if (err) return err;
    it->wn = it->w ? ryw_seek_lt(it->w, key, key_len) : NULL;
    return settle_backward(it);
}

int view_seek_le(view_iter *it, const uint8_t *key, int key_len) {
    if (bytes_cmp(key, key_len, it->max_key, it->max_len) >= 0) return view_seek_lt(it, NULL, 0);
    int err = cursor_seek_ge(it->cur, key, key_len, &it->s_valid);
    if (err) return err;
    int at_key = 0;
    if (it->s_valid) {
        const uint8_t *sk, *sv;
        int skl, svl;
        cursor_current(it->cur, &sk, &skl, &sv, &svl);
        at_key = bytes_cmp(sk, skl, key, key_len) == 0;
    }
    if (!at_key && (err = cursor_seek_lt(it->cur, key, key_len, &it->s_valid))) return err;
    if (it->w) {
        it->wn = ryw_find(it->w, key, key_len);
        if (!it->wn) it->wn = ryw_seek_lt(it->w, key, key_len);
    } else {
        it->wn = NULL;
    }
    return settle_backward(it);
}

int view_next(view_iter *it) {
    if (!it->valid) return 0;
    if (it->dir < 0) return view_seek_gt(it, it->key, it->key_len);
    int err = 0;
    if (it->from_store) err = cursor_next(it->cur, &it->s_valid);
    if (err) return err;
    if (it->from_w) it->wn = ryw_next(it->wn);
    return settle_forward(it);
}

int view_prev(view_iter *it) {
    if (!it->valid) return 0;
    if (it->dir > 0) return view_seek_lt(it, it->key, it->key_len);
    int err = 0;
    if (it->from_store) err = cursor_prev(it->cur, &it->s_valid);
    if (err) return err;
    if (it->from_w) it->wn = it->wn->prev;
    return settle_backward(it);
}
