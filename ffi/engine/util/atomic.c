/*
 * atomic.c — FoundationDB's atomic mutations on byte strings.
 *
 * The arithmetic and bitwise ops treat values as little-endian unsigned
 * integers of the operand's length: the existing value is zero-extended or
 * truncated to that length first, and an absent value yields the operand.
 */
#include <string.h>

#include "util/atomic.h"
#include "util/gen_errors.h"
#include "util/gen_options.h"

int atomic_is_valid_op(int op) {
    switch (op) {
    case FDB_MUTATION_TYPE_ADD:
    case FDB_MUTATION_TYPE_BIT_AND:
    case FDB_MUTATION_TYPE_BIT_OR:
    case FDB_MUTATION_TYPE_BIT_XOR:
    case FDB_MUTATION_TYPE_APPEND_IF_FITS:
    case FDB_MUTATION_TYPE_MAX:
    case FDB_MUTATION_TYPE_MIN:
    case FDB_MUTATION_TYPE_SET_VERSIONSTAMPED_KEY:
    case FDB_MUTATION_TYPE_SET_VERSIONSTAMPED_VALUE:
    case FDB_MUTATION_TYPE_BYTE_MIN:
    case FDB_MUTATION_TYPE_BYTE_MAX:
    case FDB_MUTATION_TYPE_COMPARE_AND_CLEAR: return 1;
    }
    return 0;
}

/* Little-endian unsigned comparison of `a` resized to n bytes against `b`. */
static int le_cmp(const uint8_t *a, int a_len, const uint8_t *b, int n) {
    for (int i = n - 1; i >= 0; i--) {
        uint8_t x = i < a_len ? a[i] : 0;
        if (x != b[i]) return x < b[i] ? -1 : 1;
    }
    return 0;
}

static int byte_cmp(const uint8_t *a, int a_len, const uint8_t *b, int b_len) {
    int c = memcmp(a, b, (size_t)(a_len < b_len ? a_len : b_len));
    return c ? c : (a_len > b_len) - (a_len < b_len);
}

/* `old` resized to n bytes (zero-extended or truncated), into out. */
static void resize(const uint8_t *old, int old_len, int n, uint8_t *out) {
    int k = old_len < n ? old_len : n;
    memcpy(out, old, (size_t)k);
    memset(out + k, 0, (size_t)(n - k));
}

static void copy(const uint8_t *src, int len, uint8_t *out, int *out_len) {
    if (len) memmove(out, src, (size_t)len);
    *out_len = len;
}

int atomic_apply(int op, int present, const uint8_t *old, int old_len, const uint8_t *param, int param_len,
                 uint8_t *out, int *out_len, int *out_present) {
    int n = param_len;
    *out_present = 1;
    if (!atomic_is_valid_op(op) || op == FDB_MUTATION_TYPE_SET_VERSIONSTAMPED_KEY ||
        op == FDB_MUTATION_TYPE_SET_VERSIONSTAMPED_VALUE)
        return FDB_ERR_INVALID_MUTATION_TYPE;
    if (op == FDB_MUTATION_TYPE_COMPARE_AND_CLEAR) {
        if (present && old_len == param_len && !memcmp(old, param, (size_t)n))
            *out_present = 0, *out_len = 0;
        else if (present)
            copy(old, old_len, out, out_len);
        else
            *out_present = 0, *out_len = 0;
        return 0;
    }
    if (!present) {
        copy(param, param_len, out, out_len);
        return 0;
    }
    switch (op) {
    case FDB_MUTATION_TYPE_ADD: {
        unsigned carry = 0;
        for (int i = 0; i < n; i++) {
            carry += (unsigned)(i < old_len ? old[i] : 0) + param[i];
            out[i] = (uint8_t)carry;
            carry >>= 8;
        }
        break;
    }
    case FDB_MUTATION_TYPE_BIT_AND:
        for (int i = 0; i < n; i++) out[i] = (uint8_t)((i < old_len ? old[i] : 0) & param[i]);
        break;
    case FDB_MUTATION_TYPE_BIT_OR:
        for (int i = 0; i < n; i++) out[i] = (uint8_t)((i < old_len ? old[i] : 0) | param[i]);
        break;
    case FDB_MUTATION_TYPE_BIT_XOR:
        for (int i = 0; i < n; i++) out[i] = (uint8_t)((i < old_len ? old[i] : 0) ^ param[i]);
        break;
    case FDB_MUTATION_TYPE_MAX:
    case FDB_MUTATION_TYPE_MIN: {
        int c = le_cmp(old, old_len, param, n);
        int keep_old = op == FDB_MUTATION_TYPE_MAX ? c > 0 : c < 0;
        if (keep_old)
            resize(old, old_len, n, out);
        else
            memmove(out, param, (size_t)n);
        break;
    }
    case FDB_MUTATION_TYPE_BYTE_MIN:
    case FDB_MUTATION_TYPE_BYTE_MAX: {
        int c = byte_cmp(old, old_len, param, param_len);
        int keep_old = op == FDB_MUTATION_TYPE_BYTE_MAX ? c > 0 : c < 0;
        if (keep_old)
            copy(old, old_len, out, out_len);
        else
            copy(param, param_len, out, out_len);
        return 0;
    }
    case FDB_MUTATION_TYPE_APPEND_IF_FITS:
        if (old_len + param_len > ATOMIC_MAX_RESULT) {
            copy(old, old_len, out, out_len);
        } else {
            memmove(out, old, (size_t)old_len);
            memcpy(out + old_len, param, (size_t)param_len);
            *out_len = old_len + param_len;
        }
        return 0;
    }
    *out_len = n;
    return 0;
}
