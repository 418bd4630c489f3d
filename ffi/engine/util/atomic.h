/*
 * atomic.h — FoundationDB's atomic operations on byte strings, shared by the
 * read-your-writes cache (client side) and the commit path (store side).
 */
#ifndef FOUND_ENGINE_ATOMIC_H
#define FOUND_ENGINE_ATOMIC_H

#include <stdint.h>

/* Upper bound of the result length of any atomic op (values are capped at
 * 100,000 bytes; append_if_fits never exceeds it). */
#define ATOMIC_MAX_RESULT 100000

/* Apply atomic operation `op` (an FDB_MUTATION_TYPE_* code other than the two
 * versionstamp ops) to the current value (`present` 0 when the key is absent)
 * with operand `param`. Writes the result into `out` (room for
 * ATOMIC_MAX_RESULT bytes) and sets *out_present to 0 when the result is
 * "key cleared" (compare_and_clear). Returns 0, or 2018 invalid_mutation_type. */
int atomic_apply(int op, int present, const uint8_t *old, int old_len, const uint8_t *param, int param_len,
                 uint8_t *out, int *out_len, int *out_present);

/* 1 when `op` is a valid atomic mutation type code of API 730. */
int atomic_is_valid_op(int op);

#endif
