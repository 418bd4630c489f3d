/*
 * found._fdb's own C: the driver's helpers around the FoundationDB C API.
 *
 * ffi/build_ffi.py compiles the .c files of ffi/driver/ into the CFFI module and feeds
 * this header to CFFI's cdef: lines starting with '#' are dropped there
 * except integer '#define's, so keep every declaration on plain C lines.
 *
 * The fdb_* functions the helpers call are the module's generated wrappers
 * (they call through the table filled by found_load_library). Everything
 * here is hidden: the module exports only its Python entry point.
 */
#ifndef FOUND_DRIVER_H
#define FOUND_DRIVER_H

#pragma GCC visibility push(hidden)
#include "fdb_c_api.h"

/* internal_error: what a helper answers when it cannot allocate */
#define FOUND_INTERNAL_ERROR 4100

/* status of a helper's result */
#define FOUND_READY   0
#define FOUND_HELD    1
#define FOUND_PENDING 2
#define FOUND_FAILED  3

/* Loading the library (generated in build_ffi.py from fdb_c_api.h). */
const char *found_load_library(const char *path);
void found_unload_library(void);
int found_library_loaded(void);
void *found_optional_symbol(const char *name);
long found_futures_alive_count(void);

/* A key or value. READY: data points to thread-local scratch, valid until
 * the thread's next helper call (length -1: absent). HELD: data points into
 * the future, which the caller destroys once it has copied it. */
typedef struct {
    int status;
    int error;
    FDBFuture *future;
    const char *data;
    int length;
} found_bytes;

/* A range batch, copied into one malloc'd block: 2 * count + 1 int offsets
 * (offsets[2i] key i, offsets[2i + 1] value i, offsets[2 * count] the end)
 * followed by the keys and values back to back. size is the whole block's
 * size in bytes; free the block with found_free() once it is read. */
typedef struct {
    int status;
    int error;
    FDBFuture *future;
    const char *blob;
    const int *offsets;
    int count;
    int more;
    void *block;
    int size;
} found_pairs;

typedef struct {
    int status;
    int error;
    FDBFuture *future;
    int64_t value;
} found_int;

typedef struct {
    int error;
    FDBTransaction *transaction;
} found_new_transaction;

/* Each helper creates the future and, when it is ready at once, reads it and
 * destroys it (PENDING: the caller waits for future, then calls the take_). */
found_bytes found_get(FDBTransaction *tr, const char *key, int key_length, fdb_bool_t snapshot);
found_bytes found_take_value(FDBFuture *f);
found_bytes found_get_key(FDBTransaction *tr, const char *key, int key_length, fdb_bool_t or_equal,
                          int offset, fdb_bool_t snapshot);
found_bytes found_take_key(FDBFuture *f);
found_pairs found_get_range(FDBTransaction *tr, const char *begin, int begin_length,
                            fdb_bool_t begin_or_equal, int begin_offset, const char *end, int end_length,
                            fdb_bool_t end_or_equal, int end_offset, int limit, int target_bytes, int mode,
                            int iteration, fdb_bool_t snapshot, fdb_bool_t reverse);
found_pairs found_take_range(FDBFuture *f);
found_int found_take_int64(FDBFuture *f);
found_int found_take_error(FDBFuture *f);
found_int found_commit(FDBTransaction *tr);
found_new_transaction found_create_transaction(FDBDatabase *db);
void found_free(void *block);

/* Completion ports (completions.c): one per event loop. found_port_watch
 * registers a C callback that queues token when future is ready and makes
 * found_port_fd readable if the queue was empty; found_port_take moves up to
 * max queued completions out as (token, code) pairs into pairs[2 * max]: a
 * watched future is then the caller's to read and destroy (code 0); a commit
 * sent with found_port_send_commit has been read and destroyed, code being
 * its error (0: committed). After found_port_close, queued and later
 * completions are destroyed in C. found_port_open: NULL when out of memory
 * or descriptors. */
typedef struct found_port found_port;
found_port *found_port_open(void);
int found_port_fd(found_port *port);
int found_port_watch(found_port *port, FDBFuture *future, intptr_t token);
int found_port_take(found_port *port, intptr_t *pairs, int max);
/* found_commit with its future watched under token when it is not ready at
 * once (PENDING): the commit path's two calls in one. */
found_int found_port_commit(found_port *port, FDBTransaction *tr, intptr_t token);
/* Send the commit of tr: 0 when it committed at once, its error code when it
 * failed at once, else FOUND_COMMIT_SENT, its outcome to come from
 * found_port_take under token (transactional()'s path: one C call a commit). */
#define FOUND_COMMIT_SENT -1
int found_port_send_commit(found_port *port, FDBTransaction *tr, intptr_t token);
void found_port_close(found_port *port);

#pragma GCC visibility pop
#endif
