/*
 * selectors.h — key selectors resolved against a transaction's view.
 *
 * A selector (key, or_equal, offset) names the row `offset - 1` steps
 * after the first row > key (or_equal) or >= key (not or_equal); past the
 * first row it resolves to "", past the last to the largest readable key.
 */
#ifndef FOUND_ENGINE_SELECTORS_H
#define FOUND_ENGINE_SELECTORS_H

#include <stdint.h>
#include "client/view.h"

typedef struct selector {
    const uint8_t *key;
    int key_len;
    int or_equal;
    int offset;
} selector;

/* 1 when the selector is a plain bound (offset 1) that needs no scan. */
static inline int selector_is_plain(const selector *s) { return s->offset == 1; }

/* Resolve `sel` by walking the view. The result points at stable memory
 * (store snapshot, transaction arena or the constants) or into `scratch`
 * (room for key_len + 1 bytes) for a plain or_equal bound. */
int selector_resolve(view_iter *it, const selector *sel, uint8_t *scratch, const uint8_t **out, int *out_len);

#endif
