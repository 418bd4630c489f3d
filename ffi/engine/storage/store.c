/*
 * store.c — opening and closing a store: the LMDB environment, its format
 * check, and the process-wide table of open stores (LMDB allows one
 * environment per file per process, so every opener shares it).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/gen_errors.h"
#include "storage/store_internal.h"

static pthread_mutex_t open_mu = PTHREAD_MUTEX_INITIALIZER;
static store *open_stores;
static pthread_once_t fork_hook_once = PTHREAD_ONCE_INIT;
atomic_int store_forks;

static void after_fork_in_child(void) {
    atomic_fetch_add(&store_forks, 1);
    pthread_mutex_init(&open_mu, NULL); /* a thread may have held it at fork */
}

static void install_fork_hook(void) { pthread_atfork(NULL, NULL, after_fork_in_child); }

static int fail(char *detail, size_t n, int err, const char *path, const char *what) {
    if (detail && n) snprintf(detail, n, "%s: %s", path, what);
    return err;
}

/* Make sure `dir` exists as a directory; create it (one level) if absent. */
static int ensure_dir(const char *dir, char *detail, size_t n) {
    struct stat st;
    if (stat(dir, &st) == 0)
        return S_ISDIR(st.st_mode) ? 0 : fail(detail, n, FDB_ERR_FILE_NOT_FOUND, dir, "not a directory");
    if (mkdir(dir, 0755) == 0 || errno == EEXIST) return 0;
    return fail(detail, n, errno == EACCES ? FDB_ERR_FILE_NOT_WRITABLE : FDB_ERR_FILE_NOT_FOUND, dir,
                strerror(errno));
}

/* Cheap structural checks LMDB itself skips: a data file cut short would
 * make LMDB fault (SIGBUS) on the first access past its end. */
static int check_file_size(store *s, const char *file, char *detail, size_t n) {
    MDB_envinfo info;
    MDB_stat st;
    struct stat fst;
    if (stat(file, &fst)) return fail(detail, n, FDB_ERR_FILE_NOT_READABLE, file, strerror(errno));
    mdb_env_info(s->env, &info);
    mdb_env_stat(s->env, &st);
    if ((uint64_t)(info.me_last_pgno + 1) * st.ms_psize > (uint64_t)fst.st_size)
        return fail(detail, n, FDB_ERR_FILE_CORRUPT, file, "file is truncated (torn or cut short)");
    return 0;
}

/* Walk the whole file (store_verify.c) unless it is too big to do at open. */
static int verify_at_open(store *s, const char *file, char *detail, size_t n) {
    struct stat st;
    if (stat(file, &st) || (uint64_t)st.st_size > STORE_VERIFY_MAX_BYTES) return 0;
    int rc = store_verify(s->env);
    if (!rc) return 0;
    char what[160];
    snprintf(what, sizeof what, "damaged pages (structure check failed: %s)", mdb_strerror(rc));
    return fail(detail, n, FDB_ERR_FILE_CORRUPT, file, what);
}

/* A file too short to hold LMDB's two meta pages, or whose first bytes are
 * not an LMDB meta page, is reported before LMDB maps it. */
static int precheck_file(const char *file, char *detail, size_t n) {
    struct stat st;
    if (stat(file, &st))
        return errno == ENOENT ? 0 : fail(detail, n, FDB_ERR_FILE_NOT_READABLE, file, strerror(errno));
    if (!S_ISREG(st.st_mode)) return fail(detail, n, FDB_ERR_FILE_CORRUPT, file, "not a regular file");
    if (st.st_size == 0) return 0; /* created, never initialized: LMDB sets it up */
    if (st.st_size < 2 * 4096)
        return fail(detail, n, FDB_ERR_FILE_CORRUPT, file,
                    "file is truncated (shorter than two LMDB meta pages)");
    return 0;
}

/* LMDB maps lock.mdb shared and writes a reader slot into it whenever a
 * snapshot claims one; on a full filesystem a page of the (sparse) file that
 * cannot be allocated then kills the process with SIGBUS — when a new store
 * is created, or when the Nth process opening an existing one reaches a new
 * page of slots. So every page LMDB will map is allocated now (without
 * changing the file's size, which other processes' maps depend on), or the
 * open fails with io_error naming the file. */
static int reserve_lock_file(const char *dir, char *detail, size_t n) {
    char file[PATH_MAX + 16];
    snprintf(file, sizeof file, "%s/lock.mdb", dir);
    int fd = open(file, O_RDWR | O_CREAT | O_NONBLOCK | O_CLOEXEC, 0644);
    if (fd < 0)
        return fail(detail, n,
                    errno == EACCES || errno == EROFS ? FDB_ERR_FILE_NOT_WRITABLE : FDB_ERR_IO_ERROR, file,
                    strerror(errno));
    struct stat st;
    int err = 0;
    if (fstat(fd, &st))
        err = fail(detail, n, FDB_ERR_IO_ERROR, file, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        err = fail(detail, n, FDB_ERR_FILE_CORRUPT, file, "not a regular file");
#ifdef FALLOC_FL_KEEP_SIZE
    else {
        off_t want = st.st_size > (off_t)STORE_LOCK_FILE_BYTES ? st.st_size : (off_t)STORE_LOCK_FILE_BYTES;
        if (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, want) && errno != EOPNOTSUPP && errno != ENOSYS)
            err = fail(detail, n, FDB_ERR_IO_ERROR, file,
                       errno == ENOSPC ? "no space left on device for LMDB's reader table" : strerror(errno));
    }
#endif
    close(fd);
    return err;
}

static int open_dbs(store *s, const char *file, char *detail, size_t n) {
    MDB_txn *txn;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc) return fail(detail, n, store_lmdb_error(rc), file, mdb_strerror(rc));
    rc = mdb_dbi_open(txn, "meta", 0, &s->meta);
    if (rc == MDB_NOTFOUND) {
        MDB_dbi main_db;
        MDB_stat st;
        rc = mdb_dbi_open(txn, NULL, 0, &main_db);
        if (!rc) rc = mdb_stat(txn, main_db, &st);
        if (!rc && st.ms_entries) {
            mdb_txn_abort(txn);
            return fail(detail, n, FDB_ERR_FILE_CORRUPT, file,
                        "not a found engine file (a foreign LMDB database)");
        }
        if (!rc) rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta);
        MDB_val k = {5, "magic"}, v = {sizeof STORE_MAGIC - 1, STORE_MAGIC};
        if (!rc) rc = mdb_put(txn, s->meta, &k, &v, 0);
        if (!rc) rc = store_meta_put_i64(txn, s, "format", STORE_FORMAT);
        if (!rc) rc = store_meta_put_i64(txn, s, "version", versions_next(0));
        if (!rc) rc = store_meta_put_i64(txn, s, "floor", 0);
    } else if (!rc) {
        MDB_val k = {5, "magic"}, v;
        int64_t format = 0;
        rc = mdb_get(txn, s->meta, &k, &v);
        if (rc || v.mv_size != sizeof STORE_MAGIC - 1 || memcmp(v.mv_data, STORE_MAGIC, v.mv_size)) {
            mdb_txn_abort(txn);
            return fail(detail, n, FDB_ERR_FILE_CORRUPT, file, "not a found engine file (bad magic)");
        }
        rc = store_meta_get_i64(txn, s, "format", &format);
        if (!rc && format != STORE_FORMAT) {
            mdb_txn_abort(txn);
            return fail(detail, n, FDB_ERR_FILE_CORRUPT, file, "unsupported found engine format version");
        }
    }
    if (!rc) rc = mdb_dbi_open(txn, "data", MDB_CREATE, &s->data);
    if (!rc) rc = mdb_dbi_open(txn, "hist", MDB_CREATE, &s->hist);
    if (!rc) rc = mdb_dbi_open(txn, "sample", MDB_CREATE, &s->sample);
    int64_t version = 0;
    if (!rc) rc = store_meta_get_i64(txn, s, "version", &version);
    if (!rc)
        rc = mdb_txn_commit(txn);
    else
        mdb_txn_abort(txn);
    if (rc) return fail(detail, n, store_lmdb_error(rc), file, mdb_strerror(rc));
    atomic_store(&s->committed, version);
    return 0;
}

static void free_store(store *s) {
    if (s->env) mdb_env_close(s->env);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->done_mu);
    pthread_cond_destroy(&s->done_cv);
    pthread_mutex_destroy(&s->snap_mu);
    pthread_mutex_destroy(&s->watch_mu);
    pthread_cond_destroy(&s->watch_cv);
    free(s->scratch);
    free(s->path);
    free(s);
}

/* FOUND_ENGINE_MAP_SIZE (bytes) overrides the map size: tests use a small
 * one to reach "disk full". Every process sharing a directory must agree. */
static size_t map_size(void) {
    const char *env = getenv("FOUND_ENGINE_MAP_SIZE");
    unsigned long long v = env ? strtoull(env, NULL, 10) : 0;
    return v ? (size_t)v : (size_t)STORE_MAP_SIZE;
}

/* The store at `path`, opened and started; NULL with *err set on failure. */
static store *open_new(const char *path, int *err_out, char *detail, size_t n) {
    char file[PATH_MAX + 16];
    snprintf(file, sizeof file, "%s/data.mdb", path);
    int err = precheck_file(file, detail, n);
    if (!err) err = reserve_lock_file(path, detail, n);
    if (err) {
        *err_out = err;
        return NULL;
    }
    store *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        *err_out = FDB_ERR_INTERNAL_ERROR;
        return NULL;
    }
    s->generation = atomic_load(&store_forks);
    s->refs = 1;
    s->wake_at = 1;
    gather_init(&s->gathering);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_mutex_init(&s->done_mu, NULL);
    pthread_cond_init(&s->done_cv, NULL);
    pthread_mutex_init(&s->snap_mu, NULL);
    pthread_mutex_init(&s->watch_mu, NULL);
    pthread_cond_init(&s->watch_cv, NULL);
    int rc = mdb_env_create(&s->env);
    if (!rc) rc = mdb_env_set_maxdbs(s->env, 8);
    if (!rc) rc = mdb_env_set_mapsize(s->env, map_size());
    if (!rc) rc = mdb_env_set_maxreaders(s->env, STORE_MAX_READERS);
    if (!rc) rc = mdb_env_open(s->env, path, MDB_NOTLS | MDB_NORDAHEAD, 0644);
    if (rc) {
        err = rc == MDB_INVALID ? fail(detail, n, FDB_ERR_FILE_CORRUPT, file,
                                       "not an LMDB file (bad magic or torn meta pages)")
              : rc == MDB_VERSION_MISMATCH
                  ? fail(detail, n, FDB_ERR_FILE_CORRUPT, file, "LMDB version mismatch")
                  : fail(detail, n, store_lmdb_error(rc), file, mdb_strerror(rc));
        free_store(s);
        *err_out = err;
        return NULL;
    }
    err = check_file_size(s, file, detail, n);
    if (!err) err = verify_at_open(s, file, detail, n);
    if (!err) err = open_dbs(s, file, detail, n);
    if (!err && store_commit_start(s))
        err = fail(detail, n, FDB_ERR_INTERNAL_ERROR, path, "cannot start commit thread");
    if (err) {
        free_store(s);
        *err_out = err;
        return NULL;
    }
    *err_out = 0;
    return s;
}

int store_open(const char *dir, store **out, char *detail, size_t detail_len) {
    char path[PATH_MAX];
    if (detail && detail_len) detail[0] = 0;
    int err = ensure_dir(dir, detail, detail_len);
    if (err) return err;
    if (!realpath(dir, path)) return fail(detail, detail_len, FDB_ERR_FILE_NOT_FOUND, dir, strerror(errno));
    pthread_once(&fork_hook_once, install_fork_hook);
    pthread_mutex_lock(&open_mu);
    for (store *s = open_stores; s; s = s->next_open) {
        if (!store_inherited(s) && !strcmp(s->path, path)) {
            s->refs++;
            *out = s;
            pthread_mutex_unlock(&open_mu);
            return 0;
        }
    }
    store *s = open_new(path, &err, detail, detail_len);
    if (s) {
        s->next_open = open_stores;
        open_stores = s;
        *out = s;
    }
    pthread_mutex_unlock(&open_mu);
    return err;
}

void store_close(store *s) {
    if (!s || store_inherited(s)) return; /* the parent's: left alone */
    pthread_mutex_lock(&open_mu);
    if (--s->refs > 0) {
        pthread_mutex_unlock(&open_mu);
        return;
    }
    for (store **p = &open_stores; *p; p = &(*p)->next_open)
        if (*p == s) {
            *p = s->next_open;
            break;
        }
    pthread_mutex_unlock(&open_mu);
    watches_stop(s);
    store_commit_stop(s);
    versions_snapshot_retain_all_release(s);
    free_store(s);
}

const char *store_path(const store *s) { return s->path; }
