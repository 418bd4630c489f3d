/*
 * engine_bench.c — the engine through its C API against raw LMDB doing the
 * same work in the same run. Run by bench/engine_bench.py, which builds it
 * and prints the ratios; prints one "name engine_per_s raw_per_s" line each.
 *
 *   engine_bench DIR N_POINT N_COMMIT_PER_THREAD N_RANGE
 */
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fdb_c_api.h"

#define DIE(...) do { fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); exit(1); } while (0)
#define OK(e) do { int bench_e = (e); if (bench_e) DIE("%s:%d: %s -> %d %s", __FILE__, __LINE__, #e, bench_e, fdb_get_error(bench_e)); } while (0)
#define MDB(e) do { int bench_e = (e); if (bench_e) DIE("%s:%d: %s -> %s", __FILE__, __LINE__, #e, mdb_strerror(bench_e)); } while (0)

static FDBDatabase *db;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int key_of(char *buf, const char *prefix, int i)
{
    return sprintf(buf, "%s%08d", prefix, i);
}

static void wait_ok(FDBFuture *f)
{
    OK(fdb_future_block_until_ready(f));
    OK(fdb_future_get_error(f));
}

/* Fill the engine with n pairs prefix+i → 16-byte values, in big transactions. */
static void fill_engine(const char *prefix, int n)
{
    char k[32], v[17] = "0123456789abcdef";
    for (int i = 0; i < n;) {
        FDBTransaction *tr;
        OK(fdb_database_create_transaction(db, &tr));
        for (int j = 0; j < 20000 && i < n; j++, i++)
            fdb_transaction_set(tr, (uint8_t *)k, key_of(k, prefix, i), (uint8_t *)v, 16);
        FDBFuture *f = fdb_transaction_commit(tr);
        wait_ok(f);
        fdb_future_destroy(f);
        fdb_transaction_destroy(tr);
    }
}

static MDB_env *raw_open(const char *dir)
{
    MDB_env *env;
    mkdir(dir, 0755);
    MDB(mdb_env_create(&env));
    MDB(mdb_env_set_mapsize(env, 8ull << 30));
    MDB(mdb_env_open(env, dir, MDB_NOTLS, 0644));
    return env;
}

static void fill_raw(MDB_env *env, const char *prefix, int n)
{
    char k[32], v[17] = "0123456789abcdef";
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB(mdb_txn_begin(env, NULL, 0, &txn));
    MDB(mdb_dbi_open(txn, NULL, 0, &dbi));
    for (int i = 0; i < n; i++) {
        MDB_val kv = {(size_t)key_of(k, prefix, i), k}, vv = {16, v};
        MDB(mdb_put(txn, dbi, &kv, &vv, MDB_APPEND));
    }
    MDB(mdb_txn_commit(txn));
}

/* (a) point reads in one transaction, in a shuffled order */
static void bench_point(const char *raw_dir, int n)
{
    fill_engine("p", n);
    MDB_env *env = raw_open(raw_dir);
    fill_raw(env, "p", n);
    int *order = malloc(sizeof *order * (size_t)n);
    for (int i = 0; i < n; i++) order[i] = i;
    srand(1);
    for (int i = n - 1; i > 0; i--) { int j = rand() % (i + 1), t = order[i]; order[i] = order[j]; order[j] = t; }
    char k[32];
    long sum = 0;

    FDBTransaction *tr;
    OK(fdb_database_create_transaction(db, &tr));
    double t0 = now();
    for (int i = 0; i < n; i++) {
        FDBFuture *f = fdb_transaction_get(tr, (uint8_t *)k, key_of(k, "p", order[i]), 0);
        fdb_bool_t present;
        const uint8_t *v;
        int vl;
        OK(fdb_future_block_until_ready(f));
        OK(fdb_future_get_value(f, &present, &v, &vl));
        sum += vl;
        fdb_future_destroy(f);
    }
    double engine = now() - t0;
    fdb_transaction_destroy(tr);

    MDB_txn *txn;
    MDB_dbi dbi;
    t0 = now();
    MDB(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn));
    MDB(mdb_dbi_open(txn, NULL, 0, &dbi));
    for (int i = 0; i < n; i++) {
        MDB_val kv = {(size_t)key_of(k, "p", order[i]), k}, vv;
        MDB(mdb_get(txn, dbi, &kv, &vv));
        sum += (long)vv.mv_size;
    }
    mdb_txn_abort(txn);
    double raw = now() - t0;
    if (sum != 32L * n) DIE("point reads: wrong sizes");
    printf("point_reads %.0f %.0f\n", n / engine, n / raw);
    mdb_env_close(env);
    free(order);
}

/* (b) durable small commits: 64 writer threads vs one fsync per commit */
static int per_thread;
static long range_bytes;   /* engine scans add, raw scans subtract */

static void *writer(void *arg)
{
    int t = (int)(long)arg, slice = t / 64, thread = t % 64;
    char k[32];
    for (int i = 0; i < per_thread; i++) {
        FDBTransaction *tr;
        OK(fdb_database_create_transaction(db, &tr));
        /* Writers interleave: a round of commits (the i-th of every thread)
         * covers 64 neighbouring keys after the previous round's, as the raw
         * loop appends its keys one after the other. */
        int kl = key_of(k, "c", ((slice * per_thread) + i) * 64 + thread);
        fdb_transaction_set(tr, (uint8_t *)k, kl, (uint8_t *)"v", 1);
        FDBFuture *f = fdb_transaction_commit(tr);
        wait_ok(f);
        fdb_future_destroy(f);
        fdb_transaction_destroy(tr);
    }
    return NULL;
}

/* The same 64 writers as callback chains: each commit's callback starts its
 * writer's next transaction, on the thread that completed the commit. This
 * is how FoundationDB's own client and found's asyncio driver wait: no OS
 * thread per writer, so no thread switch per commit. */
typedef struct chain { int id, slice, i; FDBTransaction *tr; } chain;
static pthread_mutex_t chains_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t chains_cv = PTHREAD_COND_INITIALIZER;
static int chains_running;

static void chain_next(chain *c);

static void chain_committed(FDBFuture *f, void *arg)
{
    chain *c = arg;
    OK(fdb_future_get_error(f));
    fdb_future_destroy(f);
    fdb_transaction_destroy(c->tr);
    if (++c->i < per_thread) {
        chain_next(c);
        return;
    }
    pthread_mutex_lock(&chains_mu);
    if (--chains_running == 0) pthread_cond_signal(&chains_cv);
    pthread_mutex_unlock(&chains_mu);
}

static void chain_next(chain *c)
{
    char k[32];
    OK(fdb_database_create_transaction(db, &c->tr));
    int kl = key_of(k, "e", ((c->slice * per_thread) + c->i) * 64 + c->id);   /* as writer() */
    fdb_transaction_set(c->tr, (uint8_t *)k, kl, (uint8_t *)"v", 1);
    OK(fdb_future_set_callback(fdb_transaction_commit(c->tr), chain_committed, c));
}

static double run_chains(int slice)
{
    chain c[64];
    double t0 = now();
    chains_running = 64;
    for (int i = 0; i < 64; i++) {
        c[i] = (chain){i, slice, 0, NULL};
        chain_next(&c[i]);
    }
    pthread_mutex_lock(&chains_mu);
    while (chains_running) pthread_cond_wait(&chains_cv, &chains_mu);
    pthread_mutex_unlock(&chains_mu);
    return now() - t0;
}

/* The two sides alternate in slices, so a change in the disk's fsync
 * latency during the run (a shared machine) hits both alike. */
static void bench_commits(const char *raw_dir, int n)
{
    enum { THREADS = 64, SLICES = 4 };
    pthread_t th[THREADS];
    MDB_env *env = raw_open(raw_dir);
    MDB_dbi dbi;
    MDB_txn *txn;
    MDB(mdb_txn_begin(env, NULL, 0, &txn));
    MDB(mdb_dbi_open(txn, NULL, 0, &dbi));
    MDB(mdb_txn_commit(txn));
    char k[32];
    int raw_i = 0;
    for (; raw_i < 200; raw_i++) {   /* the first commits grow the file: warm up */
        MDB(mdb_txn_begin(env, NULL, 0, &txn));
        MDB_val kv = {(size_t)key_of(k, "w", raw_i), k}, vv = {1, "v"};
        MDB(mdb_put(txn, dbi, &kv, &vv, 0));
        MDB(mdb_txn_commit(txn));
    }
    double engine = 0, raw = 0, ceiling = 0, chains = 0;
    int raw_n = 0, ceiling_n = 0;
    per_thread = n / SLICES > 0 ? n / SLICES : 1;
    for (int slice = 0; slice < SLICES; slice++) {
        double t0 = now();
        for (long i = 0; i < THREADS; i++) pthread_create(&th[i], NULL, writer, (void *)(i + slice * THREADS));
        for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
        engine += now() - t0;
        chains += run_chains(slice);
        t0 = now();
        for (int i = 0; i < 2 * per_thread; i++, raw_i++, raw_n++) {
            MDB(mdb_txn_begin(env, NULL, 0, &txn));
            MDB_val kv = {(size_t)key_of(k, "w", raw_i), k}, vv = {1, "v"};
            MDB(mdb_put(txn, dbi, &kv, &vv, 0));
            MDB(mdb_txn_commit(txn));   /* LMDB's default: fsync per commit */
        }
        raw += now() - t0;
        /* the ceiling: what LMDB itself does with 64 small writes per
         * durable commit on this disk, with no threads to hand off between */
        t0 = now();
        for (int i = 0; i < 2 * per_thread / 4 + 1; i++, ceiling_n += THREADS) {
            MDB(mdb_txn_begin(env, NULL, 0, &txn));
            for (int j = 0; j < THREADS; j++, raw_i++) {
                MDB_val kv = {(size_t)key_of(k, "w", raw_i), k}, vv = {1, "v"};
                MDB(mdb_put(txn, dbi, &kv, &vv, 0));
            }
            MDB(mdb_txn_commit(txn));
        }
        ceiling += now() - t0;
    }
    printf("durable_commits %.0f %.0f\n", THREADS * per_thread * SLICES / engine, raw_n / raw);
    printf("durable_callbacks %.0f %.0f\n", THREADS * per_thread * SLICES / chains, raw_n / raw);
    printf("group_ceiling %.0f %.0f\n", ceiling_n / ceiling, raw_n / raw);
    mdb_env_close(env);
}

/* (c) range read of n small pairs: iterator mode, batch after batch */
static double scan_engine(int n)
{
    long count = 0;
    FDBTransaction *tr;
    OK(fdb_database_create_transaction(db, &tr));
    double t0 = now();
    uint8_t begin[64] = "r";
    int begin_len = 1, or_equal = 0, offset = 1, more = 1;
    for (int iteration = 1; more; iteration++) {
        FDBFuture *f = fdb_transaction_get_range(tr, begin, begin_len, or_equal, offset,
                                                 (const uint8_t *)"s", 1, 0, 1,
                                                 0, 0, -1 /* FDB_STREAMING_MODE_ITERATOR */, iteration, 0, 0);
        const FDBKeyValue *kv;
        int n_kv;
        OK(fdb_future_block_until_ready(f));
        OK(fdb_future_get_keyvalue_array(f, &kv, &n_kv, &more));
        for (int i = 0; i < n_kv; i++) range_bytes += kv[i].key_length + kv[i].value_length;
        count += n_kv;
        if (n_kv) {   /* continue after the last key: firstGreaterThan(last) */
            memcpy(begin, kv[n_kv - 1].key, (size_t)kv[n_kv - 1].key_length);
            begin_len = kv[n_kv - 1].key_length;
            or_equal = 1, offset = 1;
        }
        fdb_future_destroy(f);
    }
    double took = now() - t0;
    fdb_transaction_destroy(tr);
    if (count != n) DIE("range read: %ld pairs, expected %d", count, n);
    return took;
}

static double scan_raw(MDB_env *env, int n)
{
    MDB_txn *txn;
    MDB_dbi dbi;
    MDB_cursor *c;
    MDB_val kv, vv;
    long count = 0;
    double t0 = now();
    MDB(mdb_txn_begin(env, NULL, MDB_RDONLY, &txn));
    MDB(mdb_dbi_open(txn, NULL, 0, &dbi));
    MDB(mdb_cursor_open(txn, dbi, &c));
    for (int rc = mdb_cursor_get(c, &kv, &vv, MDB_FIRST); !rc; rc = mdb_cursor_get(c, &kv, &vv, MDB_NEXT)) {
        range_bytes -= (long)(kv.mv_size + vv.mv_size);
        count++;
    }
    mdb_cursor_close(c);
    mdb_txn_abort(txn);
    double took = now() - t0;
    if (count != n) DIE("range read: raw scan found %ld pairs, expected %d", count, n);
    return took;
}

/* Three scans a side, alternating: one scan takes a few tens of ms, short
 * enough for a passing hiccup of the machine to decide a single pair. */
static void bench_range(const char *raw_dir, int n)
{
    fill_engine("r", n);
    MDB_env *env = raw_open(raw_dir);
    fill_raw(env, "r", n);
    double engine = 0, raw = 0;
    for (int pass = 0; pass < 3; pass++) {
        engine += scan_engine(n);
        raw += scan_raw(env, n);
    }
    if (range_bytes) DIE("range read: the two scans read different bytes");
    n *= 3;
    printf("range_read %.0f %.0f\n", n / engine, n / raw);
    mdb_env_close(env);
}

static void *run_network(void *arg)
{
    (void)arg;
    OK(fdb_run_network());
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 5) DIE("usage: %s DIR N_POINT N_COMMIT_PER_THREAD N_RANGE", argv[0]);
    char path[4096];
    const char *dir = argv[1];
    pthread_t net;
    OK(fdb_select_api_version_impl(730, 730));
    OK(fdb_setup_network());
    pthread_create(&net, NULL, run_network, NULL);
    snprintf(path, sizeof path, "%s/engine", dir);
    mkdir(path, 0755);          /* a directory: a missing path is a missing cluster file (1515) */
    OK(fdb_create_database(path, &db));
    snprintf(path, sizeof path, "%s/raw_point", dir);
    bench_point(path, atoi(argv[2]));
    snprintf(path, sizeof path, "%s/raw_commit", dir);
    bench_commits(path, atoi(argv[3]));
    snprintf(path, sizeof path, "%s/raw_range", dir);
    bench_range(path, atoi(argv[4]));
    fdb_database_destroy(db);
    OK(fdb_stop_network());
    pthread_join(net, NULL);
    return 0;
}
