/*
 * store_verify.c — a full structural check of a store when it is opened.
 *
 * LMDB trusts its pages: a data file damaged in the middle (random bytes
 * over a few pages) can make it read wild pointers and crash. So before a
 * store is used, every record of every database is visited with LMDB's own
 * cursors, every value read to its last byte and every bucket parsed, under
 * a SIGSEGV/SIGBUS guard on this thread (and a hook on LMDB's assertions,
 * which would abort): a fault, a failed assertion, an LMDB error or a count
 * that disagrees with the tree's own statistics make the open fail with
 * 1522 instead of a crash later. Files above STORE_VERIFY_MAX_BYTES are not
 * walked (it would cost a full read per open); damage that happens while a
 * store is open is not detected either (docs/engine-storage.md).
 */
#include <setjmp.h>
#include <signal.h>
#include <string.h>

#include "util/gen_errors.h"
#include "storage/store_internal.h"

static _Thread_local sigjmp_buf *guard;
static _Thread_local MDB_cursor *store_verify_cursor; /* to close after a fault */
static struct sigaction old_segv, store_old_bus;

static void on_fault(int sig, siginfo_t *info, void *uc) {
    (void)info;
    (void)uc;
    if (guard) siglongjmp(*guard, 1);
    /* Another thread's fault: give it back to whoever handled it before. */
    sigaction(SIGSEGV, &old_segv, NULL);
    sigaction(SIGBUS, &store_old_bus, NULL);
    (void)sig;
}

/* LMDB checks some page invariants with assert() (e.g. that a cursor stepped
 * onto a leaf): on a damaged page that is abort(). During the walk the
 * failed assertion ends the walk like a fault; elsewhere LMDB aborts as
 * before (this returns). */
static void on_assert(MDB_env *env, const char *msg) {
    (void)env;
    (void)msg;
    if (guard) siglongjmp(*guard, 1);
}

/* Visit every record of `dbi`; 0, an LMDB error, or MDB_CORRUPTED. */
static int walk(MDB_txn *txn, MDB_dbi dbi, int buckets, volatile uint64_t *sink) {
    MDB_stat st;
    MDB_envinfo info;
    MDB_cursor *c;
    MDB_val k, v;
    size_t n = 0;
    int rc = mdb_stat(txn, dbi, &st);
    if (rc || (rc = mdb_cursor_open(txn, dbi, &c))) return rc;
    store_verify_cursor = c;
    /* no page holds more than psize / 10 records: a bound that stops a
     * walk caught in a cycle even when the statistics are garbage too */
    mdb_env_info(mdb_txn_env(txn), &info);
    size_t most = (info.me_last_pgno + 1) * (st.ms_psize / 10);
    for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); !rc; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
        if (++n > st.ms_entries || n > most) {
            rc = MDB_CORRUPTED;
            break;
        }
        const uint8_t *p = v.mv_data;
        uint64_t x = k.mv_size ? ((const uint8_t *)k.mv_data)[k.mv_size - 1] : 0;
        for (size_t i = 0; i < v.mv_size; i += 4096) x += p[i];
        if (v.mv_size) x += p[v.mv_size - 1];
        *sink += x;
        if (buckets && k.mv_size == STORE_BUCKET_KEY) {
            bucket_entry e;
            size_t off = 0;
            int r;
            while (!(r = store_bucket_entry(&v, off, &e))) off = e.next;
            if (r < 0) {
                rc = MDB_CORRUPTED;
                break;
            }
        }
    }
    store_verify_cursor = NULL;
    mdb_cursor_close(c);
    if (rc == MDB_NOTFOUND) rc = n == st.ms_entries ? 0 : MDB_CORRUPTED;
    return rc;
}

/* Walk LMDB's free-page list (a write transaction reads it first), the
 * main database and every named database it lists. */
static int walk_all(MDB_txn *txn, volatile uint64_t *sink) {
    static const char *const names[] = {"meta", "data", "hist", "sample"};
    MDB_dbi dbi;
    int rc = walk(txn, 0, 0, sink); /* 0: LMDB's FREE_DBI */
    if (!rc) rc = mdb_dbi_open(txn, NULL, 0, &dbi);
    if (!rc) rc = walk(txn, dbi, 0, sink);
    for (int i = 0; !rc && i < 4; i++) {
        rc = mdb_dbi_open(txn, names[i], 0, &dbi);
        if (rc == MDB_NOTFOUND) {
            rc = 0;
            continue;
        } /* a new store */
        if (!rc) rc = walk(txn, dbi, i == 1, sink);
    }
    return rc;
}

int store_verify(MDB_env *env) {
    MDB_txn *txn;
    int rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
    if (rc) return rc;
    sigjmp_buf jb;
    volatile uint64_t sink = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &old_segv);
    sigaction(SIGBUS, &sa, &store_old_bus);
    mdb_env_set_assert(env, on_assert); /* ENOSYS: LMDB built without asserts */
    if (sigsetjmp(jb, 1) == 0) {
        guard = &jb;
        rc = walk_all(txn, &sink);
    } else {
        rc = MDB_CORRUPTED; /* faulted inside LMDB */
        if (store_verify_cursor) mdb_cursor_close(store_verify_cursor);
        store_verify_cursor = NULL;
    }
    guard = NULL;
    sigaction(SIGSEGV, &old_segv, NULL);
    sigaction(SIGBUS, &store_old_bus, NULL);
    mdb_txn_abort(txn);
    return rc;
}
