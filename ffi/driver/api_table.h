/*
 * Between the generated part of found._fdb and library.c: build_ffi.py
 * generates, from ffi/include/fdb_c_api.h, a table of function pointers
 * (one per C API function), the wrappers with the API's names that call
 * through it, and the three definitions declared here.
 */
#ifndef FOUND_API_TABLE_H
#define FOUND_API_TABLE_H

#pragma GCC visibility push(hidden)
/* Under the pragma: the C API's names declared here must stay hidden (the
 * module's wrappers), or a libfdb_c loaded RTLD_GLOBAL would take their
 * calls past the wrappers' future count. */
#include "fdb_c_api.h"

/* The C API's function names, in table order. */
extern const char *const found_api_names[];
extern const int found_api_count;

/* Fill the table from symbols[i] (the address of found_api_names[i]);
 * NULL symbols empties it. */
void found_api_install(void *const *symbols);

/* The engine's found_engine_get_into (ffi/engine/client/reads.c), NULL
 * with any other library: found_get reads through it when it is there. */
typedef FDBFuture *(*found_engine_get_into_function)(FDBTransaction *tr, const uint8_t *key, int key_len,
                                                     fdb_bool_t snapshot, uint8_t *buf, int cap, int *length,
                                                     fdb_error_t *err);
extern found_engine_get_into_function found_get_into;

/* Futures created and not yet destroyed (counted by the wrappers). */
extern long found_futures_alive;

#pragma GCC visibility pop
#endif
