/*
 * store_test.c — drives the storage core (store.h, atomic.h) directly.
 *
 *   store_test --list        names of all tests
 *   store_test NAME DIR      run one test in the empty directory DIR
 *
 * tests/storage/test_store_c.py runs each test in its own temp directory.
 * A failed CHECK prints file:line and exits 1.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/atomic.h"
#include "util/gen_errors.h"
#include "util/gen_options.h"
#include "storage/store.h"
#include "storage/store_internal.h"

#define CHECK(c) do { if (!(c)) { fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); exit(1); } } while (0)
#define CHECK_EQ(a, b) do { long long test_a = (a), test_b = (b); if (test_a != test_b) { \
    fprintf(stderr, "%s:%d: %s == %lld, expected %lld\n", __FILE__, __LINE__, #a, test_a, test_b); exit(1); } } while (0)
#define S(str) (const uint8_t *)(str), (int)strlen(str)

static const char *dir;

/* --- helpers: synchronous commits ------------------------------------------ */

typedef struct waiter {
    commit_request req;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int finished, err;
    int64_t version;
    uint16_t index;
} waiter;

static void test_done(commit_request *req, int err, int64_t version, uint16_t index)
{
    waiter *w = req->ctx;
    pthread_mutex_lock(&w->mu);
    w->finished = 1, w->err = err, w->version = version, w->index = index;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void waiter_init(waiter *w, int64_t rv, const key_range *reads, int nr,
                        const key_range *writes, int nw, const mutation *m, int nm)
{
    memset(w, 0, sizeof *w);
    w->req = (commit_request){rv, reads, nr, writes, nw, m, nm, test_done, w, NULL, NULL};
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
}

static int waiter_wait(waiter *w)
{
    pthread_mutex_lock(&w->mu);
    while (!w->finished) pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    return w->err;
}

static int commit(store *s, int64_t rv, const key_range *reads, int nr,
                  const mutation *m, int nm, int64_t *version)
{
    waiter w;
    key_range writes[16];
    int nw = 0;
    for (int i = 0; i < nm && nw < 16; i++)
        writes[nw++] = m[i].kind == MUT_CLEAR_RANGE
            ? (key_range){m[i].key, m[i].key_len, m[i].end, m[i].end_len}
            : (key_range){m[i].key, m[i].key_len, NULL, 0};
    /* single-key ranges [k, k+\0) need storage for the end key */
    uint8_t *ends[16] = {0};
    for (int i = 0; i < nw; i++)
        if (!writes[i].end) {
            ends[i] = malloc((size_t)writes[i].begin_len + 1);
            memcpy(ends[i], writes[i].begin, (size_t)writes[i].begin_len);
            ends[i][writes[i].begin_len] = 0;
            writes[i].end = ends[i];
            writes[i].end_len = writes[i].begin_len + 1;
        }
    waiter_init(&w, rv, reads, nr, writes, nw, m, nm);
    store_commit_submit(s, &w.req);
    int err = waiter_wait(&w);
    for (int i = 0; i < nw; i++) free(ends[i]);
    if (version) *version = w.version;
    return err;
}

static int ucmp(const uint8_t *a, int al, const uint8_t *b, int bl)
{
    int c = memcmp(a, b, (size_t)(al < bl ? al : bl));
    return c ? c : (al > bl) - (al < bl);
}

static void must(int err)
{
    CHECK_EQ(err, 0);
}

static mutation set_m(const char *k, const char *v)
{
    return (mutation){MUT_SET, 0, S(k), NULL, 0, S(v)};
}

static int set1(store *s, const char *k, const char *v)
{
    mutation m = set_m(k, v);
    return commit(s, 0, NULL, 0, &m, 1, NULL);
}

static store *open_ok(void)
{
    store *s;
    char detail[512];
    int err = store_open(dir, &s, detail, sizeof detail);
    if (err) fprintf(stderr, "store_open: %d %s\n", err, detail);
    CHECK_EQ(err, 0);
    return s;
}

/* The value of key in the newest snapshot, or "<absent>". */
static char *get(store *s, const char *key)
{
    static char buf[4096];
    snapshot *snap;
    int found, len;
    const uint8_t *v;
    CHECK_EQ(store_snapshot_latest(s, &snap), 0);
    CHECK_EQ(snapshot_get(snap, S(key), &found, &v, &len), 0);
    if (found) { memcpy(buf, v, (size_t)len); buf[len] = 0; }
    else strcpy(buf, "<absent>");
    snapshot_release(snap);
    return buf;
}

/* --- tests ----------------------------------------------------------------- */

static void test_open_set_get(void)
{
    store *s = open_ok(), *t = open_ok();
    CHECK(s == t);   /* one environment per directory per process */
    store_close(t);
    int64_t v0 = store_committed_version(s), v1, v2;
    CHECK(v0 > 0);
    mutation m[2] = {set_m("a", "1"), set_m("b", "2")};
    CHECK_EQ(commit(s, 0, NULL, 0, m, 2, &v1), 0);
    CHECK(v1 > v0);
    CHECK_EQ(store_committed_version(s), v1);
    CHECK(!strcmp(get(s, "a"), "1") && !strcmp(get(s, "b"), "2"));
    CHECK(!strcmp(get(s, "c"), "<absent>"));
    CHECK_EQ(set1(s, "a", "3"), 0);
    v2 = store_committed_version(s);
    CHECK(v2 > v1);
    CHECK(!strcmp(get(s, "a"), "3"));
    CHECK(strstr(store_path(s), "") != NULL);
    store_close(s);
    s = open_ok();   /* durable across close and reopen */
    CHECK(!strcmp(get(s, "a"), "3"));
    CHECK_EQ(store_committed_version(s), v2);
    store_close(s);
}

static void test_empty_key_and_long_keys(void)
{
    store *s = open_ok();
    mutation m = {MUT_SET, 0, (const uint8_t *)"", 0, NULL, 0, S("empty")};
    CHECK_EQ(commit(s, 0, NULL, 0, &m, 1, NULL), 0);
    CHECK(!strcmp(get(s, ""), "empty"));
    static uint8_t big[STORE_MAX_KEY + 1];
    memset(big, 'k', sizeof big);
    mutation ok = {MUT_SET, 0, big, STORE_MAX_KEY, NULL, 0, S("max")};
    CHECK_EQ(commit(s, 0, NULL, 0, &ok, 1, NULL), 0);
    /* seeking with a key longer than any stored one */
    snapshot *snap;
    store_cursor *c;
    int valid;
    const uint8_t *k, *v;
    int kl, vl;
    CHECK_EQ(store_snapshot_latest(s, &snap), 0);
    CHECK_EQ(snapshot_cursor_open(snap, &c), 0);
    CHECK_EQ(cursor_seek_ge(c, big, STORE_MAX_KEY + 1, &valid), 0);
    CHECK(!valid);
    CHECK_EQ(cursor_seek_lt(c, big, STORE_MAX_KEY + 1, &valid), 0);
    CHECK(valid);
    cursor_current(c, &k, &kl, &v, &vl);
    CHECK_EQ(kl, STORE_MAX_KEY);
    CHECK_EQ(cursor_seek_ge(c, (const uint8_t *)"", 0, &valid), 0);
    cursor_current(c, &k, &kl, &v, &vl);
    CHECK(valid && kl == 0 && vl == 5);
    cursor_close(c);
    snapshot_release(snap);
    store_close(s);
}

static void collect(store *s, const char *from, char *out)
{
    snapshot *snap;
    store_cursor *c;
    int valid;
    out[0] = 0;
    CHECK_EQ(store_snapshot_latest(s, &snap), 0);
    CHECK_EQ(snapshot_cursor_open(snap, &c), 0);
    CHECK_EQ(cursor_seek_ge(c, S(from), &valid), 0);
    for (; valid; cursor_next(c, &valid)) {
        const uint8_t *k, *v;
        int kl, vl;
        cursor_current(c, &k, &kl, &v, &vl);
        strncat(out, (const char *)k, (size_t)kl);
        strcat(out, ",");
    }
    cursor_close(c);
    snapshot_release(snap);
}

static void test_cursors_and_clear_range(void)
{
    store *s = open_ok();
    const char *keys[] = {"a", "b", "ba", "c", "d", "e"};
    mutation m[6];
    for (int i = 0; i < 6; i++) m[i] = set_m(keys[i], keys[i]);
    CHECK_EQ(commit(s, 0, NULL, 0, m, 6, NULL), 0);
    char out[256];
    collect(s, "", out);
    CHECK(!strcmp(out, "a,b,ba,c,d,e,"));
    collect(s, "bb", out);
    CHECK(!strcmp(out, "c,d,e,"));
    snapshot *snap;
    store_cursor *c;
    int valid, kl, vl;
    const uint8_t *k, *v;
    CHECK_EQ(store_snapshot_latest(s, &snap), 0);
    CHECK_EQ(snapshot_cursor_open(snap, &c), 0);
    CHECK_EQ(cursor_seek_lt(c, S("c"), &valid), 0);
    cursor_current(c, &k, &kl, &v, &vl);
    CHECK(valid && kl == 2 && !memcmp(k, "ba", 2));
    CHECK_EQ(cursor_prev(c, &valid), 0);
    cursor_current(c, &k, &kl, &v, &vl);
    CHECK(valid && kl == 1 && k[0] == 'b');
    CHECK_EQ(cursor_seek_lt(c, NULL, 0, &valid), 0);
    cursor_current(c, &k, &kl, &v, &vl);
    CHECK(valid && k[0] == 'e');
    CHECK_EQ(cursor_next(c, &valid), 0);
    CHECK(!valid);
    CHECK_EQ(cursor_seek_lt(c, S("a"), &valid), 0);
    CHECK(!valid);
    int64_t bytes;
    CHECK_EQ(store_estimate_range(snap, S("b"), S("d"), &bytes), 0);
    CHECK_EQ(bytes, 2 + 4 + 2);   /* b, ba, c: keys + values */
    cursor_close(c);
    mutation clr = {MUT_CLEAR_RANGE, 0, S("b"), S("d"), NULL, 0};
    CHECK_EQ(commit(s, 0, NULL, 0, &clr, 1, NULL), 0);
    collect(s, "", out);
    CHECK(!strcmp(out, "a,d,e,"));
    /* the old snapshot still sees everything */
    CHECK_EQ(store_estimate_range(snap, S("b"), S("d"), &bytes), 0);
    CHECK_EQ(bytes, 8);
    snapshot_release(snap);
    mutation rev = {MUT_CLEAR_RANGE, 0, S("e"), S("a"), NULL, 0};   /* empty range: no-op */
    CHECK_EQ(commit(s, 0, NULL, 0, &rev, 1, NULL), 0);
    collect(s, "", out);
    CHECK(!strcmp(out, "a,d,e,"));
    mutation all = {MUT_CLEAR_RANGE, 0, (const uint8_t *)"", 0, S("\xff"), NULL, 0};
    CHECK_EQ(commit(s, 0, NULL, 0, &all, 1, NULL), 0);
    collect(s, "", out);
    CHECK(!strcmp(out, ""));
    store_close(s);
}

static int count_keys(store *s)
{
    snapshot *snap;
    store_cursor *c;
    int valid, n = 0;
    CHECK_EQ(store_snapshot_latest(s, &snap), 0);
    CHECK_EQ(snapshot_cursor_open(snap, &c), 0);
    CHECK_EQ(cursor_seek_ge(c, NULL, 0, &valid), 0);
    for (; valid; cursor_next(c, &valid)) n++;
    cursor_close(c);
    snapshot_release(snap);
    return n;
}

static void test_clear_range_many_pages(void)
{
    store *s = open_ok();
    static mutation m[5000];
    static char keys[5000][16];
    for (int i = 0; i < 5000; i++) {
        snprintf(keys[i], sizeof keys[i], "k%05d", i);
        m[i] = set_m(keys[i], "0123456789012345678901234567890123456789");
    }
    waiter w;
    waiter_init(&w, 0, NULL, 0, NULL, 0, m, 5000);
    store_commit_submit(s, &w.req);
    CHECK_EQ(waiter_wait(&w), 0);
    CHECK_EQ(count_keys(s), 5000);
    mutation clr = {MUT_CLEAR_RANGE, 0, S("k01000"), S("k04000"), NULL, 0};
    CHECK_EQ(commit(s, 0, NULL, 0, &clr, 1, NULL), 0);
    CHECK_EQ(count_keys(s), 2000);
    CHECK(!strcmp(get(s, "k00999"), "0123456789012345678901234567890123456789"));
    CHECK(!strcmp(get(s, "k01000"), "<absent>"));
    CHECK(!strcmp(get(s, "k03999"), "<absent>"));
    CHECK(strcmp(get(s, "k04000"), "<absent>"));
    mutation tail = {MUT_CLEAR_RANGE, 0, S("k04500"), S("z"), NULL, 0};
    CHECK_EQ(commit(s, 0, NULL, 0, &tail, 1, NULL), 0);
    CHECK_EQ(count_keys(s), 1500);
    store_close(s);
}

static int64_t estimate(store *s, const char *b, const char *e)
{
    snapshot *snap;
    int64_t bytes;
    CHECK_EQ(store_snapshot_latest(s, &snap), 0);
    CHECK_EQ(store_estimate_range(snap, S(b), S(e), &bytes), 0);
    snapshot_release(snap);
    return bytes;
}

static void test_estimate_range_sampled(void)
{
    store *s = open_ok();
    static mutation m[20000];
    static char keys[20000][16];
    static uint8_t val[90];
    memset(val, 'v', sizeof val);
    for (int i = 0; i < 20000; i++) {
        snprintf(keys[i], sizeof keys[i], "e%07d", i);   /* 8 + 90 bytes a pair */
        m[i] = (mutation){MUT_SET, 0, S(keys[i]), NULL, 0, val, sizeof val};
    }
    waiter w;
    waiter_init(&w, 0, NULL, 0, NULL, 0, m, 20000);
    store_commit_submit(s, &w.req);
    CHECK_EQ(waiter_wait(&w), 0);
    int64_t all = estimate(s, "e", "f"), half = estimate(s, "e", "e0010000");
    fprintf(stderr, "estimates: all %lld (exact 1960000), half %lld\n", (long long)all, (long long)half);
    CHECK(all > 1960000 * 7 / 10 && all < 1960000 * 13 / 10);
    CHECK(half > 980000 * 6 / 10 && half < 980000 * 14 / 10);
    CHECK_EQ(estimate(s, "e0000100", "e0000200"), 100 * 98);   /* small: measured exactly */
    mutation clr = {MUT_CLEAR_RANGE, 0, S("e0010000"), S("f"), NULL, 0};
    CHECK_EQ(commit(s, 0, NULL, 0, &clr, 1, NULL), 0);
    int64_t after = estimate(s, "e", "f");
    CHECK(after > 980000 * 6 / 10 && after < 980000 * 14 / 10);
    CHECK_EQ(estimate(s, "e0010000", "f"), 0);
    store_close(s);
}

/* Rewriting keys moves their sample entries with them: values shrunk
 * below the sampling size leave the sample (the entries of the old, larger
 * values would otherwise still count), and grown again they come back. */
static void test_estimate_range_rewrites(void)
{
    store *s = open_ok();
    static mutation m[20000];
    static char keys[20000][16];
    static uint8_t val[90];
    memset(val, 'v', sizeof val);
    for (int round = 0; round < 3; round++) {
        int len = round == 1 ? 1 : (int)sizeof val;   /* 90, then 1, then 90 bytes again */
        for (int i = 0; i < 20000; i++) {
            snprintf(keys[i], sizeof keys[i], "e%07d", i);
            m[i] = (mutation){MUT_SET, 0, S(keys[i]), NULL, 0, val, len};
        }
        waiter w;
        waiter_init(&w, 0, NULL, 0, NULL, 0, m, 20000);
        store_commit_submit(s, &w.req);
        CHECK_EQ(waiter_wait(&w), 0);
        int64_t exact = 20000LL * (8 + len), all = estimate(s, "e", "f");
        fprintf(stderr, "rewrite %d: estimate %lld (exact %lld)\n", round, (long long)all, (long long)exact);
        CHECK(all > exact / 2 && all < exact * 3 / 2);
    }
    store_close(s);
}

static int apply(int op, const char *old, int old_len, const char *param, int param_len,
                 uint8_t *out, int *out_len, int *present)
{
    return atomic_apply(op, old != NULL, (const uint8_t *)old, old_len,
                        (const uint8_t *)param, param_len, out, out_len, present);
}

#define EXPECT_ATOMIC(op, old, ol, param, pl, want, wl) do { \
    static uint8_t out[ATOMIC_MAX_RESULT]; int n = -1, p = -1; \
    CHECK_EQ(apply(op, old, ol, param, pl, out, &n, &p), 0); \
    CHECK_EQ(p, 1); CHECK_EQ(n, wl); CHECK(!memcmp(out, want, (size_t)(wl))); } while (0)

static void test_atomic_ops(void)
{
    EXPECT_ATOMIC(FDB_MUTATION_TYPE_ADD, "\xff\x00", 2, "\x01\x00", 2, "\x00\x01", 2);
    EXPECT_ATOMIC(FDB_MUTATION_TYPE_ADD, "\xff\xff", 2, "\x01\x00", 2, "\x00\x00", 2);  /* wraps */
    EXPECT_ATOMIC(FDB_MUTATION_TYPE_ADD, NULL, 0, "\x05", 1, "\x05", 1);
    EXPECT_ATOMIC(FDB_MUTATION_TYPE_ADD, "\x01\x02\x03", 3, "\x01", 1, "\x02", 1);     /* truncated */
    EXPECT_ATOMIC(FDB_MUTATION_TYPE_ADD, "\x01", 1, "\x01\x01", 2, "\x02\x01", 2);    /* extended */
    EXPECT_ATOMIC(FDB_MUTATION_TYPE_BIT_AND, "\x0f\xff", 2, "\xf3", 1, "\x03", 1);
    EXPECT_ATOMIC(FDB_MUTATION_TYPE_BIT_AND, NULL, 0, "\xf3", 1, "\xf3", 1);
    EXPECT_ATOMIC(FDB_MUTATION_TYPE_BIT_AND, "\x0f", 1, "\xff\xff", 2, "\x0f\x00", 2);
    EXPECT_ATOMIC(FDB_MUTATION_TYPE_BIT_OR, "\x0f", 1, "\xf0\x01", 2, "\xff\x01", 2);
    EXPECT_ATOMIC(FDB_MUTATION_TYPE_BIT_XOR, "\x0f", 1, "\xff", 1, "\xf0", 1);
    EXPECT_ATOMIC(FDB_MUTATION_TYPE_MAX, "\x00\x02", 2, "\xff\x01", 2, "\x00\x02", 2);
    EXPECT_ATOMIC(FDB_MUTATION_TYPE_MAX, "\x00\x01", 2, "\xff\x01", 2, "\xff\x01", 2);
    EXPECT_ATOMIC(FDB_MUTATION_TYPE_MAX, "", 0, "\x07", 1, "\x07", 1);
    EXPECT_ATOMIC(FDB_MUTATION_TYPE_MIN, "\x00\x02", 2, "\xff\x01", 2, "\xff\x01", 2);
    EXPECT_ATOMIC(FDB_MUTATION_TYPE_MIN, "\x03", 1, "\x05\x00", 2, "\x03\x00", 2);
    EXPECT_ATOMIC(FDB_MUTATION_TYPE_MIN, NULL, 0, "\x05", 1, "\x05", 1);
    EXPECT_ATOMIC(FDB_MUTATION_TYPE_MIN, "", 0, "\x05", 1, "\x00", 1);
    EXPECT_ATOMIC(FDB_MUTATION_TYPE_BYTE_MIN, "abc", 3, "abd", 3, "abc", 3);
    EXPECT_ATOMIC(FDB_MUTATION_TYPE_BYTE_MIN, "ab", 2, "abc", 3, "ab", 2);
    EXPECT_ATOMIC(FDB_MUTATION_TYPE_BYTE_MAX, "ab", 2, "abc", 3, "abc", 3);
    EXPECT_ATOMIC(FDB_MUTATION_TYPE_BYTE_MAX, NULL, 0, "q", 1, "q", 1);
    EXPECT_ATOMIC(FDB_MUTATION_TYPE_APPEND_IF_FITS, "ab", 2, "cd", 2, "abcd", 4);
    EXPECT_ATOMIC(FDB_MUTATION_TYPE_APPEND_IF_FITS, NULL, 0, "cd", 2, "cd", 2);
    static char big[ATOMIC_MAX_RESULT];
    memset(big, 'x', sizeof big);
    EXPECT_ATOMIC(FDB_MUTATION_TYPE_APPEND_IF_FITS, big, ATOMIC_MAX_RESULT - 1, "cd", 2, big, ATOMIC_MAX_RESULT - 1);
    EXPECT_ATOMIC(FDB_MUTATION_TYPE_APPEND_IF_FITS, big, ATOMIC_MAX_RESULT - 2, "xx", 2, big, ATOMIC_MAX_RESULT);
    EXPECT_ATOMIC(FDB_MUTATION_TYPE_COMPARE_AND_CLEAR, "ab", 2, "ac", 2, "ab", 2);
    uint8_t out[8];
    int n, p;
    CHECK_EQ(apply(FDB_MUTATION_TYPE_COMPARE_AND_CLEAR, "ab", 2, "ab", 2, out, &n, &p), 0);
    CHECK_EQ(p, 0);
    CHECK_EQ(apply(FDB_MUTATION_TYPE_COMPARE_AND_CLEAR, NULL, 0, "ab", 2, out, &n, &p), 0);
    CHECK_EQ(p, 0);
    CHECK_EQ(apply(3, "a", 1, "b", 1, out, &n, &p), FDB_ERR_INVALID_MUTATION_TYPE);
    CHECK_EQ(apply(FDB_MUTATION_TYPE_SET_VERSIONSTAMPED_KEY, "a", 1, "b", 1, out, &n, &p), FDB_ERR_INVALID_MUTATION_TYPE);
    CHECK(atomic_is_valid_op(FDB_MUTATION_TYPE_SET_VERSIONSTAMPED_VALUE));
    CHECK(!atomic_is_valid_op(0) && !atomic_is_valid_op(1) && !atomic_is_valid_op(10));
}

static void test_atomic_commits(void)
{
    store *s = open_ok();
    mutation add = {MUT_ATOMIC, FDB_MUTATION_TYPE_ADD, S("n"), NULL, 0, (const uint8_t *)"\x01\x00\x00\x00", 4};
    for (int i = 0; i < 300; i++) CHECK_EQ(commit(s, 0, NULL, 0, &add, 1, NULL), 0);
    snapshot *snap;
    int found, len;
    const uint8_t *v;
    CHECK_EQ(store_snapshot_latest(s, &snap), 0);
    CHECK_EQ(snapshot_get(snap, S("n"), &found, &v, &len), 0);
    CHECK(found && len == 4 && v[0] == 300 % 256 && v[1] == 1);
    snapshot_release(snap);
    CHECK_EQ(set1(s, "c", "same"), 0);
    mutation cac = {MUT_ATOMIC, FDB_MUTATION_TYPE_COMPARE_AND_CLEAR, S("c"), NULL, 0, S("same")};
    CHECK_EQ(commit(s, 0, NULL, 0, &cac, 1, NULL), 0);
    CHECK(!strcmp(get(s, "c"), "<absent>"));
    mutation bad = {MUT_ATOMIC, 3, S("n"), NULL, 0, S("x")};
    CHECK_EQ(commit(s, 0, NULL, 0, &bad, 1, NULL), FDB_ERR_INVALID_MUTATION_TYPE);
    static uint8_t huge[STORE_KEY_LIMIT + ATOMIC_MAX_RESULT + 8];
    mutation long_key = {MUT_SET, 0, huge, STORE_KEY_LIMIT + 1, NULL, 0, S("x")};
    mutation big_param = {MUT_ATOMIC, FDB_MUTATION_TYPE_ADD, S("n"), NULL, 0, huge, ATOMIC_MAX_RESULT + 5};
    mutation bad_kind = {7, 0, S("n"), NULL, 0, S("x")};
    waiter w;   /* no write ranges: the commit() helper makes them from keys */
    waiter_init(&w, 0, NULL, 0, NULL, 0, &long_key, 1);
    store_commit_submit(s, &w.req);
    CHECK_EQ(waiter_wait(&w), FDB_ERR_KEY_TOO_LARGE);
    CHECK_EQ(commit(s, 0, NULL, 0, &big_param, 1, NULL), FDB_ERR_VALUE_TOO_LARGE);
    CHECK_EQ(commit(s, 0, NULL, 0, &bad_kind, 1, NULL), FDB_ERR_INVALID_MUTATION_TYPE);
    /* a refused request leaves nothing behind, even after valid mutations */
    mutation mixed[2] = {set_m("n", "overwritten"), bad};
    CHECK_EQ(commit(s, 0, NULL, 0, mixed, 2, NULL), FDB_ERR_INVALID_MUTATION_TYPE);
    CHECK(strcmp(get(s, "n"), "overwritten"));
    store_close(s);
}

static void test_versionstamps(void)
{
    store *s = open_ok();
    /* key "vs" + 10-byte placeholder + "!" with offset 2; value likewise at offset 1 */
    uint8_t key[2 + 10 + 1 + 4] = "vs__________!\x02\x00\x00\x00";
    uint8_t val[1 + 10 + 4] = "v__________\x01\x00\x00\x00";
    mutation m[2] = {{MUT_ATOMIC, FDB_MUTATION_TYPE_SET_VERSIONSTAMPED_KEY, key, sizeof key, NULL, 0, S("x")},
                     {MUT_ATOMIC, FDB_MUTATION_TYPE_SET_VERSIONSTAMPED_VALUE, S("val"), NULL, 0, val, sizeof val}};
    int64_t version;
    CHECK_EQ(commit(s, 0, NULL, 0, m, 2, &version), 0);
    uint8_t stamp[10];
    for (int i = 0; i < 8; i++) stamp[i] = (uint8_t)((uint64_t)version >> (56 - 8 * i));
    stamp[8] = stamp[9] = 0;
    snapshot *snap;
    int found, len;
    const uint8_t *v;
    uint8_t want_key[13] = "vs";
    memcpy(want_key + 2, stamp, 10);
    want_key[12] = '!';
    CHECK_EQ(store_snapshot_latest(s, &snap), 0);
    CHECK_EQ(snapshot_get(snap, want_key, 13, &found, &v, &len), 0);
    CHECK(found && len == 1 && v[0] == 'x');
    CHECK_EQ(snapshot_get(snap, S("val"), &found, &v, &len), 0);
    CHECK(found && len == 11 && v[0] == 'v' && !memcmp(v + 1, stamp, 10));
    snapshot_release(snap);
    uint8_t bad[6] = "ab\x05\x00\x00\x00";   /* offset 5 + 10 > 2 */
    mutation b = {MUT_ATOMIC, FDB_MUTATION_TYPE_SET_VERSIONSTAMPED_KEY, bad, 6, NULL, 0, S("x")};
    CHECK_EQ(commit(s, 0, NULL, 0, &b, 1, NULL), FDB_ERR_CLIENT_INVALID_OPERATION);
    store_close(s);
}

/* Queue several requests so the commit thread takes them as one batch. */
static void submit_batch(store *s, waiter *w, int n)
{
    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < n; i++) {
        w[i].req.next = NULL;
        if (s->tail) s->tail->next = &w[i].req;
        else s->head = &w[i].req;
        s->tail = &w[i].req;
        s->queued++;
    }
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void test_batch_index_and_in_batch_conflict(void)
{
    store *s = open_ok();
    int64_t rv = store_committed_version(s);
    mutation m[3] = {set_m("x", "1"), set_m("y", "2"), set_m("z", "3")};
    key_range wx = {S("x"), (const uint8_t *)"x\x00", 2}, wy = {S("y"), (const uint8_t *)"y\x00", 2}, wz = {S("z"), (const uint8_t *)"z\x00", 2};
    key_range rx = {S("x"), (const uint8_t *)"x\x00", 2};
    waiter w[3];
    waiter_init(&w[0], rv, NULL, 0, &wx, 1, &m[0], 1);
    waiter_init(&w[1], rv, &rx, 1, &wy, 1, &m[1], 1);   /* reads x, written earlier in the batch */
    waiter_init(&w[2], rv, NULL, 0, &wz, 1, &m[2], 1);
    submit_batch(s, w, 3);
    CHECK_EQ(waiter_wait(&w[0]), 0);
    CHECK_EQ(waiter_wait(&w[1]), FDB_ERR_NOT_COMMITTED);
    CHECK_EQ(waiter_wait(&w[2]), 0);
    CHECK_EQ(w[0].version, w[2].version);   /* one batch, one version */
    CHECK_EQ(w[0].index, 0);
    CHECK_EQ(w[2].index, 1);
    CHECK(!strcmp(get(s, "y"), "<absent>"));
    CHECK(!strcmp(get(s, "z"), "3"));
    store_close(s);
}

/* after_batch: on the completion thread, after the done() of its run of
 * requests (consecutive ones sharing it), once per run. */
static char trail[64];
static int trail_len;
static pthread_t trail_thread;

static void trail_add(char c)
{
    if (trail_len == 0) trail_thread = pthread_self();
    CHECK(pthread_equal(trail_thread, pthread_self()));
    CHECK(trail_len < (int)sizeof trail - 1);
    trail[trail_len++] = c;
}

static void done_trailed(commit_request *req, int err, int64_t version, uint16_t index)
{
    trail_add('d');
    test_done(req, err, version, index);
}

static void after_a(void) { trail_add('A'); }
static void after_b(void) { trail_add('B'); }

static void test_after_batch_runs_after_each_run(void)
{
    store *s = open_ok();
    void (*hooks[6])(void) = {after_a, after_a, after_b, NULL, after_b, after_a};
    mutation m[6];
    waiter w[6];
    char keys[6][16];
    for (int i = 0; i < 6; i++) {
        snprintf(keys[i], sizeof keys[i], "ab%d", i);
        m[i] = set_m(keys[i], "v");
        waiter_init(&w[i], 0, NULL, 0, NULL, 0, &m[i], 1);
        w[i].req.done = done_trailed;
        w[i].req.after_batch = hooks[i];
    }
    submit_batch(s, w, 6);   /* one batch */
    for (int i = 0; i < 6; i++) CHECK_EQ(waiter_wait(&w[i]), 0);
    CHECK_EQ(w[0].version, w[5].version);
    store_close(s);           /* the completion thread has finished */
    trail[trail_len] = 0;
    CHECK(!strcmp(trail, "ddAdBddBdA") || (fprintf(stderr, "trail %s\n", trail), 0));
}

/* The batch's one history entry holds every accepted request's write
 * ranges and the keys its versionstamped-key mutations made: a later reader
 * of any of them from before the batch conflicts, a reader of anything else
 * does not. */
static void test_batch_history_covers_every_request(void)
{
    store *s = open_ok();
    int64_t rv = store_committed_version(s);
    uint8_t vkey[2 + 10 + 4] = "vs__________\x02\x00\x00\x00";
    mutation m[3] = {set_m("a", "1"),
                     {MUT_ATOMIC, FDB_MUTATION_TYPE_SET_VERSIONSTAMPED_KEY, vkey, sizeof vkey, NULL, 0, S("x")},
                     set_m("c", "3")};
    key_range wa = {S("a"), (const uint8_t *)"a\x00", 2}, wc = {S("c"), (const uint8_t *)"c\x00", 2};
    waiter w[3];
    waiter_init(&w[0], rv, NULL, 0, &wa, 1, &m[0], 1);
    waiter_init(&w[1], rv, NULL, 0, NULL, 0, &m[1], 1);
    waiter_init(&w[2], rv, NULL, 0, &wc, 1, &m[2], 1);
    submit_batch(s, w, 3);
    for (int i = 0; i < 3; i++) CHECK_EQ(waiter_wait(&w[i]), 0);
    CHECK_EQ(w[0].version, w[2].version);
    uint8_t stamped[13] = "vs", stamped_end[13];
    for (int i = 0; i < 8; i++) stamped[2 + i] = (uint8_t)((uint64_t)w[1].version >> (56 - 8 * i));
    stamped[10] = 0, stamped[11] = (uint8_t)w[1].index;
    memcpy(stamped_end, stamped, 12);
    stamped_end[12] = 0;
    key_range reads[4] = {{S("a"), (const uint8_t *)"a\x00", 2},
                          {stamped, 12, stamped_end, 13},
                          {S("c"), (const uint8_t *)"c\x00", 2},
                          {S("b"), (const uint8_t *)"b\x00", 2}};
    mutation other = set_m("z", "late");
    for (int i = 0; i < 4; i++)
        CHECK_EQ(commit(s, rv, &reads[i], 1, &other, 1, NULL), i < 3 ? FDB_ERR_NOT_COMMITTED : 0);
    store_close(s);
}

static void test_batches_are_bounded(void)
{
    store *s = open_ok();
    enum { N = STORE_BATCH_MAX_REQUESTS + 100 };
    static waiter w[N];
    static mutation m[N];
    static char keys[N][16];
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "b%06d", i);
        m[i] = set_m(keys[i], "v");
        waiter_init(&w[i], 0, NULL, 0, NULL, 0, &m[i], 1);
    }
    submit_batch(s, w, N);   /* queued at once: more than one batch may take */
    for (int i = 0; i < N; i++) CHECK_EQ(waiter_wait(&w[i]), 0);
    CHECK(w[0].version < w[N - 1].version);
    CHECK_EQ(w[0].version, w[STORE_BATCH_MAX_REQUESTS - 1].version);
    CHECK_EQ(w[STORE_BATCH_MAX_REQUESTS - 1].index, STORE_BATCH_MAX_REQUESTS - 1);
    CHECK_EQ(w[STORE_BATCH_MAX_REQUESTS].index, 0);
    CHECK_EQ(count_keys(s), N);
    store_close(s);
}

/* Batches complete in commit order, whichever store thread tells them (the
 * completion thread, or the commit thread when nothing else waits). */
static pthread_mutex_t order_mu = PTHREAD_MUTEX_INITIALIZER;
static int64_t order_version[3 * STORE_BATCH_MAX_REQUESTS];
static int order_index[3 * STORE_BATCH_MAX_REQUESTS], test_order_n;

static void done_ordered(commit_request *req, int err, int64_t version, uint16_t index)
{
    pthread_mutex_lock(&order_mu);
    order_version[test_order_n] = version;
    order_index[test_order_n++] = index;
    pthread_mutex_unlock(&order_mu);
    test_done(req, err, version, index);
}

static void test_completions_follow_commit_order(void)
{
    store *s = open_ok();
    enum { N = 3 * STORE_BATCH_MAX_REQUESTS };
    static waiter w[N];
    static mutation m[N];
    static char keys[N][32];
    for (int round = 0; round < 3; round++) {
        test_order_n = 0;
        for (int i = 0; i < N; i++) {
            snprintf(keys[i], sizeof keys[i], "o%d-%06d", round, i);
            m[i] = set_m(keys[i], "v");
            waiter_init(&w[i], 0, NULL, 0, NULL, 0, &m[i], 1);
            w[i].req.done = done_ordered;
        }
        submit_batch(s, w, N);   /* three batches at least */
        for (int i = 0; i < N; i++) CHECK_EQ(waiter_wait(&w[i]), 0);
        CHECK_EQ(test_order_n, N);
        CHECK(order_version[0] < order_version[N - 1]);
        for (int i = 1; i < N; i++) {
            CHECK(order_version[i - 1] <= order_version[i]);
            if (order_version[i - 1] == order_version[i]) CHECK_EQ(order_index[i], order_index[i - 1] + 1);
        }
    }
    store_close(s);
}

/* The merged, binary-searched read set answers as the plain double loop. */
static void random_short_key(uint8_t *buf, int *len)
{
    *len = rand() % 4;
    for (int i = 0; i < *len; i++) buf[i] = (uint8_t)("ab\xff"[rand() % 3]);
}

static void test_read_set_matches_naive(void)
{
    static uint8_t keys[64][4];
    srand(99);
    for (int round = 0; round < 3000; round++) {
        key_range reads[24], writes[4];
        int nr = rand() % 24, nw = 1 + rand() % 4, used = 0;
        for (int i = 0; i < nr + nw; i++) {
            key_range *r = i < nr ? &reads[i] : &writes[i - nr];
            random_short_key(keys[used], &r->begin_len);
            r->begin = keys[used++];
            random_short_key(keys[used], &r->end_len);
            r->end = keys[used++];
        }
        int naive = 0;
        for (int i = 0; i < nr; i++)
            for (int j = 0; j < nw; j++)
                naive |= ucmp(reads[i].begin, reads[i].begin_len, writes[j].end, writes[j].end_len) < 0 &&
                         ucmp(writes[j].begin, writes[j].begin_len, reads[i].end, reads[i].end_len) < 0 &&
                         ucmp(reads[i].begin, reads[i].begin_len, reads[i].end, reads[i].end_len) < 0 &&
                         ucmp(writes[j].begin, writes[j].begin_len, writes[j].end, writes[j].end_len) < 0;
        read_set rs;
        CHECK_EQ(conflicts_reads_prepare(reads, nr, &rs), 0);
        CHECK_EQ(conflicts_ranges_meet(&rs, writes, nw), naive);
        conflicts_reads_free(&rs);
    }
}

static void test_conflicts(void)
{
    store *s = open_ok();
    int64_t rv = store_committed_version(s);
    CHECK_EQ(set1(s, "k", "1"), 0);
    key_range rk = {S("k"), (const uint8_t *)"k\x00", 2}, ro = {S("l"), S("m")}, rall = {S(""), S("\xff")};
    mutation m = set_m("out", "1");
    CHECK_EQ(commit(s, rv, &rk, 1, &m, 1, NULL), FDB_ERR_NOT_COMMITTED);
    CHECK_EQ(commit(s, rv, &rall, 1, &m, 1, NULL), FDB_ERR_NOT_COMMITTED);
    CHECK_EQ(commit(s, rv, &ro, 1, &m, 1, NULL), 0);          /* disjoint read */
    CHECK_EQ(commit(s, rv, NULL, 0, &m, 1, NULL), 0);         /* blind write */
    int64_t now = store_committed_version(s);
    CHECK_EQ(commit(s, now, &rk, 1, &m, 1, NULL), 0);          /* read after the write */
    /* ranges are half-open: a write at a read range's end does not conflict */
    rv = store_committed_version(s);
    CHECK_EQ(set1(s, "q", "1"), 0);
    key_range below_q = {S("p"), S("q")}, at_q = {S("q"), S("r")}, empty = {S("q"), S("q")};
    CHECK_EQ(commit(s, rv, &below_q, 1, &m, 1, NULL), 0);
    CHECK_EQ(commit(s, rv, &empty, 1, &m, 1, NULL), 0);
    CHECK_EQ(commit(s, rv, &at_q, 1, &m, 1, NULL), FDB_ERR_NOT_COMMITTED);
    CHECK(!strcmp(get(s, "out"), "1"));
    store_close(s);
}

static void test_too_old(void)
{
    store *s = open_ok();
    CHECK_EQ(set1(s, "a", "1"), 0);
    int64_t rv = store_committed_version(s);
    /* Pretend history before now was pruned. */
    MDB_txn *txn;
    CHECK_EQ(mdb_txn_begin(s->env, NULL, 0, &txn), 0);
    CHECK_EQ(store_meta_put_i64(txn, s, "floor", rv + 1), 0);
    CHECK_EQ(mdb_txn_commit(txn), 0);
    key_range r = {S("a"), S("b")};
    mutation m = set_m("b", "2");
    CHECK_EQ(commit(s, rv, &r, 1, &m, 1, NULL), FDB_ERR_TRANSACTION_TOO_OLD);
    CHECK_EQ(commit(s, rv, NULL, 0, &m, 1, NULL), 0);   /* no reads, no check */
    CHECK_EQ(commit(s, store_committed_version(s), &r, 1, &m, 1, NULL), 0);
    store_close(s);
}

static void test_history_pruned(void)
{
    store *s = open_ok();
    int64_t v0 = store_committed_version(s);
    CHECK_EQ(set1(s, "x", "0"), 0);            /* history the jump below prunes */
    int64_t vx = store_committed_version(s);
    /* Move the version clock 7 s ahead: the next commit prunes history. */
    MDB_txn *txn;
    CHECK_EQ(mdb_txn_begin(s->env, NULL, 0, &txn), 0);
    CHECK_EQ(store_meta_put_i64(txn, s, "version", vx + 7000000), 0);
    CHECK_EQ(mdb_txn_commit(txn), 0);
    CHECK_EQ(set1(s, "a", "1"), 0);
    int64_t v1 = store_committed_version(s), floor;
    CHECK(v1 > vx + 7000000);
    CHECK_EQ(mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn), 0);
    CHECK_EQ(conflicts_floor(txn, s, &floor), 0);
    MDB_stat st;
    CHECK_EQ(mdb_stat(txn, s->hist, &st), 0);
    mdb_txn_abort(txn);
    CHECK_EQ(floor, vx);                       /* the newest version pruned */
    CHECK_EQ(st.ms_entries, 1);
    key_range r = {S("a"), S("b")};
    mutation m = set_m("b", "2");
    CHECK_EQ(commit(s, v0, &r, 1, &m, 1, NULL), FDB_ERR_TRANSACTION_TOO_OLD);
    store_close(s);
}

/* Move the version clock: the next commit's version follows `version`. */
static void set_version_clock(store *s, int64_t version)
{
    MDB_txn *txn;
    CHECK_EQ(mdb_txn_begin(s->env, NULL, 0, &txn), 0);
    CHECK_EQ(store_meta_put_i64(txn, s, "version", version), 0);
    CHECK_EQ(mdb_txn_commit(txn), 0);
}

/* The floor is the newest version pruned: below it 1007; at or above it
 * every retained write is still checked (no missed conflict), including
 * read versions older than the time cutoff that lost no history. */
static void test_history_floor_boundaries(void)
{
    store *s = open_ok();
    CHECK_EQ(set1(s, "x", "0"), 0);
    int64_t vx = store_committed_version(s);
    set_version_clock(s, vx + 3000000);
    CHECK_EQ(set1(s, "y", "0"), 0);
    int64_t vy = store_committed_version(s);
    set_version_clock(s, vx + STORE_HISTORY_VERSIONS + 1500000);
    CHECK_EQ(set1(s, "z", "0"), 0);             /* prunes x's history, keeps y's */
    int64_t vz = store_committed_version(s), floor;
    MDB_txn *txn;
    CHECK_EQ(mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn), 0);
    CHECK_EQ(conflicts_floor(txn, s, &floor), 0);
    mdb_txn_abort(txn);
    CHECK_EQ(floor, vx);
    CHECK(vz - STORE_HISTORY_VERSIONS > vx + 1000000);   /* the cutoff is well above the floor */
    key_range rx = {S("x"), S("x\x01")}, ry = {S("y"), S("y\x01")}, rz = {S("z"), S("z\x01")};
    key_range rq = {S("q"), S("r")};
    mutation m = set_m("out", "1");
    CHECK_EQ(commit(s, vx - 1, &rq, 1, &m, 1, NULL), FDB_ERR_TRANSACTION_TOO_OLD);
    CHECK_EQ(commit(s, vx, &ry, 1, &m, 1, NULL), FDB_ERR_NOT_COMMITTED);
    CHECK_EQ(commit(s, vx, &rx, 1, &m, 1, NULL), 0);
    CHECK_EQ(commit(s, vx + 1000000, &ry, 1, &m, 1, NULL), FDB_ERR_NOT_COMMITTED);
    CHECK_EQ(commit(s, vx + 1000000, &rz, 1, &m, 1, NULL), FDB_ERR_NOT_COMMITTED);
    CHECK_EQ(commit(s, vx + 1000000, &rq, 1, &m, 1, NULL), 0);
    CHECK_EQ(commit(s, vy, &ry, 1, &m, 1, NULL), 0);
    CHECK_EQ(commit(s, vy, &rz, 1, &m, 1, NULL), FDB_ERR_NOT_COMMITTED);
    store_close(s);
}

static void test_snapshot_at(void)
{
    store *s = open_ok();
    snapshot *a, *b, *x;
    CHECK_EQ(set1(s, "k", "1"), 0);
    CHECK_EQ(store_snapshot_latest(s, &a), 0);
    int64_t va = snapshot_version(a);
    CHECK_EQ(set1(s, "k", "2"), 0);
    CHECK_EQ(store_snapshot_latest(s, &b), 0);
    CHECK(snapshot_version(b) > va);
    CHECK_EQ(store_snapshot_at(s, va, &x), 0);
    CHECK_EQ(snapshot_version(x), va);
    int found, len;
    const uint8_t *v;
    CHECK_EQ(snapshot_get(x, S("k"), &found, &v, &len), 0);
    CHECK(found && v[0] == '1');
    snapshot_release(x);
    /* a version between two commits reads the earlier commit's state */
    CHECK_EQ(store_snapshot_at(s, va + 1, &x), 0);
    CHECK_EQ(snapshot_version(x), va);
    snapshot_release(x);
    CHECK_EQ(store_snapshot_at(s, snapshot_version(b) + 1, &x), FDB_ERR_FUTURE_VERSION);
    CHECK_EQ(store_snapshot_at(s, 1, &x), FDB_ERR_TRANSACTION_TOO_OLD);
    snapshot_release(a);
    snapshot_release(b);
    store_close(s);
}

/* With LMDB's reader table full, a new snapshot still comes: the store gives
 * back the slots it kept for snapshot_at. */
static void test_reader_table_full(void)
{
    store *s = open_ok();
    for (int i = 0; i < 5; i++) {
        snapshot *snap;
        CHECK_EQ(set1(s, "k", "v"), 0);
        CHECK_EQ(store_snapshot_latest(s, &snap), 0);   /* the older ones go to the ring */
        snapshot_release(snap);
    }
    static MDB_txn *hog[STORE_MAX_READERS];
    int n = 0;
    while (n < STORE_MAX_READERS && !mdb_txn_begin(s->env, NULL, MDB_RDONLY, &hog[n])) n++;
    CHECK(n < STORE_MAX_READERS);   /* the table filled up */
    CHECK_EQ(set1(s, "k", "w"), 0);
    CHECK(!strcmp(get(s, "k"), "w"));
    /* snapshots held by their users cannot be given back: once those take
     * the last slots, a retryable error, not io_error */
    snapshot *held[8];
    int h = 0, err = 0;
    while (h < 8 && !err) {
        CHECK_EQ(set1(s, "k", "x"), 0);
        err = store_snapshot_latest(s, &held[h]);
        if (!err) h++;
    }
    CHECK_EQ(err, FDB_ERR_GRV_PROXY_MEMORY_LIMIT_EXCEEDED);
    for (int i = 0; i < h; i++) snapshot_release(held[i]);
    for (int i = 0; i < n; i++) mdb_txn_abort(hog[i]);
    CHECK(!strcmp(get(s, "k"), "x"));
    store_close(s);
}

typedef struct fired { pthread_mutex_t mu; pthread_cond_t cv; int n, err; } fired;

static void test_fire(void *ctx, int err)
{
    fired *f = ctx;
    pthread_mutex_lock(&f->mu);
    f->n++, f->err = err;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

static int wait_fired(fired *f)
{
    pthread_mutex_lock(&f->mu);
    while (!f->n) pthread_cond_wait(&f->cv, &f->mu);
    pthread_mutex_unlock(&f->mu);
    return f->err;
}

static void test_watches(void)
{
    store *s = open_ok();
    fired f1 = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    fired f2 = f1, f3 = f1, f4 = f1;
    store_watch *w1, *w2, *w3, *w4;
    CHECK_EQ(set1(s, "w", "1"), 0);
    CHECK_EQ(store_watch_add(s, S("w"), 1, S("1"), 10, test_fire, &f1, &w1), 0);
    CHECK_EQ(store_watch_add(s, S("other"), 0, NULL, 0, 10, test_fire, &f2, &w2), 0);
    CHECK_EQ(store_watch_add(s, S("w"), 1, S("1"), 2, test_fire, &f3, &w3), FDB_ERR_TOO_MANY_WATCHES);
    CHECK_EQ(set1(s, "unrelated", "x"), 0);
    CHECK_EQ(set1(s, "w", "1"), 0);      /* same value: no fire */
    CHECK_EQ(set1(s, "w", "2"), 0);
    CHECK_EQ(wait_fired(&f1), 0);
    CHECK_EQ(f1.n, 1);
    store_watch_cancel(w2);
    CHECK_EQ(wait_fired(&f2), FDB_ERR_OPERATION_CANCELLED);
    /* a watch whose value already changed fires at once */
    CHECK_EQ(store_watch_add(s, S("w"), 1, S("1"), 10, test_fire, &f3, &w3), 0);
    CHECK_EQ(wait_fired(&f3), 0);
    /* closing the store cancels what is left */
    CHECK_EQ(store_watch_add(s, S("w"), 1, S("2"), 10, test_fire, &f4, &w4), 0);
    store_close(s);
    CHECK_EQ(f4.n, 1);
    CHECK_EQ(f4.err, FDB_ERR_OPERATION_CANCELLED);
}

static void test_watch_other_process(void)
{
    store *s = open_ok();
    fired f = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    store_watch *w;
    CHECK_EQ(store_watch_add(s, S("w"), 0, NULL, 0, 10, test_fire, &f, &w), 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {   /* the child must not use the parent's store: it opens its own */
        char cmd[4096];
        snprintf(cmd, sizeof cmd, "/proc/%d/exe", (int)getpid());
        execl(cmd, cmd, "_child_set_w", dir, (char *)NULL);
        _exit(127);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_EQ(wait_fired(&f), 0);
    CHECK(!strcmp(get(s, "w"), "from child"));
    store_close(s);
}

static void child_set_w(void)
{
    store *s = open_ok();
    CHECK_EQ(set1(s, "w", "from child"), 0);
    store_close(s);
}

static void child_add(void)
{
    store *s = open_ok();
    mutation add = {MUT_ATOMIC, FDB_MUTATION_TYPE_ADD, S("n"), NULL, 0, (const uint8_t *)"\x01\x00\x00\x00", 4};
    key_range rn = {S("m"), (const uint8_t *)"m\x00", 2};
    mutation set = {MUT_SET, 0, S("m"), NULL, 0, NULL, 0};
    for (int i = 0; i < 200; i++) CHECK_EQ(commit(s, 0, NULL, 0, &add, 1, NULL), 0);
    /* read-modify-write of "m" with retries on conflict */
    for (int i = 0; i < 100; i++) {
        for (;;) {
            snapshot *snap;
            int found, len;
            const uint8_t *v;
            uint32_t n = 0;
            CHECK_EQ(store_snapshot_latest(s, &snap), 0);
            CHECK_EQ(snapshot_get(snap, S("m"), &found, &v, &len), 0);
            if (found) memcpy(&n, v, 4);
            int64_t rv = snapshot_version(snap);
            snapshot_release(snap);
            n++;
            set.param = (const uint8_t *)&n, set.param_len = 4;
            int err = commit(s, rv, &rn, 1, &set, 1, NULL);
            if (!err) break;
            CHECK_EQ(err, FDB_ERR_NOT_COMMITTED);
        }
    }
    store_close(s);
}

static void test_multi_process_counters(void)
{
    pid_t pids[3];
    fflush(NULL);
    for (int i = 0; i < 3; i++) {
        if ((pids[i] = fork()) == 0) {
            char exe[64];
            snprintf(exe, sizeof exe, "/proc/%d/exe", (int)getpid());
            execl(exe, exe, "_child_add", dir, (char *)NULL);
            _exit(127);
        }
    }
    child_add();   /* the parent takes part too */
    for (int i = 0; i < 3; i++) {
        int status;
        CHECK(waitpid(pids[i], &status, 0) == pids[i] && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    store *s = open_ok();
    snapshot *snap;
    int found, len;
    const uint8_t *v;
    uint32_t n = 0, m = 0;
    CHECK_EQ(store_snapshot_latest(s, &snap), 0);
    CHECK_EQ(snapshot_get(snap, S("n"), &found, &v, &len), 0);
    memcpy(&n, v, 4);
    CHECK_EQ(snapshot_get(snap, S("m"), &found, &v, &len), 0);
    memcpy(&m, v, 4);
    snapshot_release(snap);
    CHECK_EQ(n, 4 * 200);
    CHECK_EQ(m, 4 * 100);
    store_close(s);
}

/* A writer killed while it holds LMDB's write lock must not block others. */
static void test_writer_killed_holding_the_lock(void)
{
    int ready[2];
    CHECK_EQ(pipe(ready), 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        char exe[64], fd[16];
        snprintf(exe, sizeof exe, "/proc/%d/exe", (int)getpid());
        snprintf(fd, sizeof fd, "%d", ready[1]);
        setenv("STORE_TEST_READY_FD", fd, 1);
        execl(exe, exe, "_child_hold_write_lock", dir, (char *)NULL);
        _exit(127);
    }
    close(ready[1]);
    char c;
    CHECK_EQ(read(ready[0], &c, 1), 1);   /* the child holds the lock now */
    kill(pid, SIGKILL);
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status));
    close(ready[0]);
    store *s = open_ok();
    CHECK_EQ(set1(s, "after", "ok"), 0);
    CHECK(!strcmp(get(s, "after"), "ok"));
    CHECK(!strcmp(get(s, "half"), "<absent>"));   /* the killed txn left nothing */
    store_close(s);
}

static void child_hold_write_lock(void)
{
    store *s = open_ok();
    MDB_txn *txn;
    CHECK_EQ(mdb_txn_begin(s->env, NULL, 0, &txn), 0);
    MDB_val k = {5, "\0half"}, v = {1, "x"};
    CHECK_EQ(mdb_put(txn, s->data, &k, &v, 0), 0);
    int fd = atoi(getenv("STORE_TEST_READY_FD"));
    CHECK_EQ(write(fd, "r", 1), 1);
    for (;;) pause();
}

/* Readers sharing snapshots with each other while a writer commits: every
 * snapshot shows a consistent state (the ten counters always sum to 1000). */
static store *shared_store;
static atomic_int writer_done;

static void *consistency_reader(void *arg)
{
    (void)arg;
    int rounds = 0;
    while (!atomic_load(&writer_done) || rounds < 50) {
        snapshot *snap;
        store_cursor *c;
        int found, len, valid, sum = 0, sum2 = 0, n = 0;
        const uint8_t *v;
        CHECK_EQ(store_snapshot_latest(shared_store, &snap), 0);
        for (int i = 0; i < 10; i++) {
            char k[16];
            snprintf(k, sizeof k, "x%d", i);
            CHECK_EQ(snapshot_get(snap, S(k), &found, &v, &len), 0);
            CHECK(found && len == 4);
            int32_t x;
            memcpy(&x, v, 4);
            sum += x;
        }
        CHECK_EQ(snapshot_cursor_open(snap, &c), 0);
        CHECK_EQ(cursor_seek_ge(c, S("x"), &valid), 0);
        for (; valid; must(cursor_next(c, &valid)), n++) {
            const uint8_t *k;
            int kl, vl;
            int32_t x;
            cursor_current(c, &k, &kl, &v, &vl);
            memcpy(&x, v, 4);
            sum2 += x;
        }
        cursor_close(c);
        snapshot_release(snap);
        CHECK_EQ(sum, 1000);
        CHECK_EQ(sum2, 1000);
        CHECK_EQ(n, 10);
        rounds++;
    }
    return NULL;
}

/* Ten 4-byte counters x0..x9 of 100 each: writers move one unit at a time,
 * so every consistent snapshot sums to 1000. */
typedef struct counters { char keys[10][16]; int32_t vals[10]; } counters;

static mutation counter_set(counters *c, int i)
{
    return (mutation){MUT_SET, 0, S(c->keys[i]), NULL, 0, (const uint8_t *)&c->vals[i], 4};
}

static void counters_init(counters *c, mutation out[10])
{
    for (int i = 0; i < 10; i++) {
        snprintf(c->keys[i], sizeof c->keys[i], "x%d", i);
        c->vals[i] = 100;
        out[i] = counter_set(c, i);
    }
}

/* Move one unit between two random counters: the two sets to commit. */
static void counters_move(counters *c, mutation out[2])
{
    int a = rand() % 10, b = (a + 1 + rand() % 9) % 10;
    c->vals[a]--, c->vals[b]++;
    out[0] = counter_set(c, a);
    out[1] = counter_set(c, b);
}

static void test_shared_snapshots_stay_consistent(void)
{
    store *s = shared_store = open_ok();
    mutation init[10];
    counters c;
    counters_init(&c, init);
    CHECK_EQ(commit(s, 0, NULL, 0, init, 10, NULL), 0);
    pthread_t readers[4];
    for (int i = 0; i < 4; i++) pthread_create(&readers[i], NULL, consistency_reader, NULL);
    srand(3);
    for (int round = 0; round < 200; round++) {
        mutation m[2];
        counters_move(&c, m);
        CHECK_EQ(commit(s, 0, NULL, 0, m, 2, NULL), 0);
    }
    atomic_store(&writer_done, 1);
    for (int i = 0; i < 4; i++) pthread_join(readers[i], NULL);
    store_close(s);
}

/* One snapshot (one LMDB read txn) read by several threads at once:
 * point reads, cursors, long keys (bucket records) and size estimates must
 * all see exactly the pinned state while commits go on. */
static snapshot *pinned;
static atomic_int pinned_writer_done;
static char long_keys[4][STORE_MAX_KEY + 40];

static int32_t pinned_read_x(snapshot *snap, int i)
{
    char k[16];
    int found, len;
    const uint8_t *v;
    int32_t x;
    snprintf(k, sizeof k, "x%d", i);
    CHECK_EQ(snapshot_get(snap, S(k), &found, &v, &len), 0);
    CHECK(found && len == 4);
    memcpy(&x, v, 4);
    return x;
}

static void *pinned_reader(void *arg)
{
    (void)arg;
    for (int round = 0; round < 150 || !atomic_load(&pinned_writer_done); round++) {
        for (int i = 0; i < 10; i++) CHECK_EQ(pinned_read_x(pinned, i), 100);
        store_cursor *c;
        int valid, n = 0, found, len;
        const uint8_t *v;
        CHECK_EQ(snapshot_cursor_open(pinned, &c), 0);
        CHECK_EQ(cursor_seek_ge(c, S("L"), &valid), 0);
        for (; valid; must(cursor_next(c, &valid)), n++) {
            const uint8_t *k;
            int kl, vl;
            cursor_current(c, &k, &kl, &v, &vl);
            if (k[0] != 'L') break;
            CHECK(kl > STORE_MAX_KEY && vl == 1 && v[0] == '0');
        }
        CHECK_EQ(n, 4);
        CHECK_EQ(cursor_seek_lt(c, S("y"), &valid), 0);
        for (n = 0; valid; must(cursor_prev(c, &valid)), n++) {
            const uint8_t *k;
            int kl, vl;
            cursor_current(c, &k, &kl, &v, &vl);
            if (k[0] != 'x') break;
        }
        CHECK_EQ(n, 10);
        cursor_close(c);
        CHECK_EQ(snapshot_get(pinned, S(long_keys[round % 4]), &found, &v, &len), 0);
        CHECK(found && len == 1 && v[0] == '0');
        int64_t bytes;
        CHECK_EQ(store_estimate_range(pinned, S("x"), S("y"), &bytes), 0);
        CHECK(bytes > 0);
        snapshot *latest;                       /* and the newest, shared too */
        CHECK_EQ(store_snapshot_latest(shared_store, &latest), 0);
        int sum = 0;
        for (int i = 0; i < 10; i++) sum += pinned_read_x(latest, i);
        snapshot_release(latest);
        CHECK_EQ(sum, 1000);
    }
    return NULL;
}

static void test_pinned_snapshot_read_by_threads(void)
{
    store *s = shared_store = open_ok();
    mutation init[14];
    counters c;
    counters_init(&c, init);
    for (int i = 0; i < 4; i++) {
        memset(long_keys[i], 'L', sizeof long_keys[i] - 1);
        long_keys[i][sizeof long_keys[i] - 1] = 0;
        long_keys[i][STORE_MAX_KEY + 10] = (char)('a' + i);
        init[10 + i] = set_m(long_keys[i], "0");
    }
    CHECK_EQ(commit(s, 0, NULL, 0, init, 14, NULL), 0);
    CHECK_EQ(store_snapshot_latest(s, &pinned), 0);
    pthread_t readers[4];
    for (int i = 0; i < 4; i++) pthread_create(&readers[i], NULL, pinned_reader, NULL);
    srand(5);
    for (int round = 0; round < 150; round++) {
        mutation m[3];
        counters_move(&c, m);
        m[2] = set_m(long_keys[round % 4], round % 2 ? "1" : "2");
        CHECK_EQ(commit(s, 0, NULL, 0, m, 3, NULL), 0);
    }
    atomic_store(&pinned_writer_done, 1);
    for (int i = 0; i < 4; i++) pthread_join(readers[i], NULL);
    snapshot_release(pinned);
    store_close(s);
}

/* After fork the child leaves the parent's store alone and opens the
 * directory afresh; both go on committing. */
static void test_fork_child_opens_afresh(void)
{
    store *s = open_ok();
    CHECK_EQ(set1(s, "parent", "1"), 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        store *c = open_ok();
        if (c == s || set1(c, "child", "1") || strcmp(get(c, "parent"), "1")) _exit(1);
        store_close(c);
        _exit(0);   /* never close or use the parent's store here */
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
    CHECK_EQ(WEXITSTATUS(status), 0);
    CHECK_EQ(set1(s, "parent", "2"), 0);
    CHECK(!strcmp(get(s, "child"), "1"));
    store_close(s);
}

/* A store used by mistake in a forked child refuses instead of touching
 * the parent's LMDB state (or waiting for threads the child lacks). */
static int child_after_ran;
static void child_after(void) { child_after_ran = 1; }

static void test_fork_child_cannot_use_parents_store(void)
{
    store *s = open_ok();
    CHECK_EQ(set1(s, "k", "before"), 0);
    snapshot *before;
    CHECK_EQ(store_snapshot_latest(s, &before), 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        snapshot *snap;
        int found, len;
        const uint8_t *v;
        store_cursor *c;
        waiter w;
        mutation m = set_m("k", "child");
        if (store_snapshot_latest(s, &snap) != FDB_ERR_CLIENT_INVALID_OPERATION) _exit(2);
        if (snapshot_get(before, S("k"), &found, &v, &len) != FDB_ERR_CLIENT_INVALID_OPERATION) _exit(3);
        if (snapshot_cursor_open(before, &c) != FDB_ERR_CLIENT_INVALID_OPERATION) _exit(4);
        waiter_init(&w, 0, NULL, 0, NULL, 0, &m, 1);
        w.req.after_batch = child_after;
        store_commit_submit(s, &w.req);
        if (waiter_wait(&w) != FDB_ERR_CLIENT_INVALID_OPERATION) _exit(5);
        if (!child_after_ran) _exit(6);   /* refused at once: after_batch still runs */
        snapshot_release(before);   /* must not release the parent's reader slot */
        store_close(s);             /* must not wait for the parent's threads */
        _exit(0);
    }
    int status;
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
    CHECK_EQ(WEXITSTATUS(status), 0);
    CHECK_EQ(set1(s, "k", "after"), 0);
    int found, len;
    const uint8_t *v;
    CHECK_EQ(snapshot_get(before, S("k"), &found, &v, &len), 0);   /* still the parent's */
    CHECK(found && len == 6 && !memcmp(v, "before", 6));
    snapshot_release(before);
    CHECK(!strcmp(get(s, "k"), "after"));
    store_close(s);
}

static void write_file(const char *name, const void *data, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    CHECK(fwrite(data, 1, len, f) == len);
    fclose(f);
}

static void expect_open_error(int code, const char *fragment)
{
    store *s;
    char detail[1024];
    int err = store_open(dir, &s, detail, sizeof detail);
    if (err != code || !strstr(detail, "data.mdb") || !strstr(detail, fragment))
        fprintf(stderr, "store_open: %d %s\n", err, detail);
    CHECK_EQ(err, code);
    CHECK(strstr(detail, "data.mdb") != NULL);
    CHECK(strstr(detail, fragment) != NULL);
}

static void test_corrupt_random_bytes(void)
{
    static uint8_t junk[64 * 1024];
    srand(7);
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (uint8_t)rand();
    write_file("data.mdb", junk, sizeof junk);
    expect_open_error(FDB_ERR_FILE_CORRUPT, "not an LMDB file");
}

static void test_corrupt_text_file(void)
{
    write_file("data.mdb", "hello, I am a text file\n", 24);
    expect_open_error(FDB_ERR_FILE_CORRUPT, "truncated");
}

static void test_corrupt_truncated(void)
{
    store *s = open_ok();
    static char val[4000];
    memset(val, 'v', sizeof val - 1);
    for (int i = 0; i < 50; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%03d", i);
        CHECK_EQ(set1(s, k, val), 0);
    }
    store_close(s);
    char path[4096];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    CHECK_EQ(truncate(path, 5 * 4096), 0);
    expect_open_error(FDB_ERR_FILE_CORRUPT, "truncated");
}

/* Random bytes over the pages inside a store (their headers only, or all
 * of them): the open fails cleanly instead of LMDB crashing on a wild page. */
static void test_damaged_pages(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    for (int whole = 0; whole < 2; whole++) {
        store *s = open_ok();
        static char val[200];
        memset(val, 'v', sizeof val - 1);
        static mutation m[3000];
        static char keys[3000][16];
        for (int i = 0; i < 3000; i++) {
            snprintf(keys[i], sizeof keys[i], "key%06d", i);
            m[i] = set_m(keys[i], val);
        }
        waiter w;
        waiter_init(&w, 0, NULL, 0, NULL, 0, m, 3000);
        store_commit_submit(s, &w.req);
        CHECK_EQ(waiter_wait(&w), 0);
        store_close(s);
        FILE *f = fopen(path, "r+b");
        CHECK(f != NULL);
        fseek(f, 0, SEEK_END);
        long pages = ftell(f) / 4096;
        srand(7);
        for (long page = 2; page < pages; page++) {   /* past LMDB's two meta pages */
            static uint8_t junk[4096];
            size_t n = whole ? sizeof junk : 16;
            for (size_t i = 0; i < n; i++) junk[i] = (uint8_t)rand();
            fseek(f, page * 4096, SEEK_SET);
            CHECK(fwrite(junk, 1, n, f) == n);
        }
        fclose(f);
        expect_open_error(FDB_ERR_FILE_CORRUPT, "damaged pages");
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "rm -f '%s'/data.mdb '%s'/lock.mdb", dir, dir);
        CHECK_EQ(system(cmd), 0);
    }
}

static void test_foreign_lmdb(void)
{
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi dbi;
    CHECK_EQ(mdb_env_create(&env), 0);
    CHECK_EQ(mdb_env_open(env, dir, 0, 0644), 0);
    CHECK_EQ(mdb_txn_begin(env, NULL, 0, &txn), 0);
    CHECK_EQ(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
    MDB_val k = {3, "foo"}, v = {3, "bar"};
    CHECK_EQ(mdb_put(txn, dbi, &k, &v, 0), 0);
    CHECK_EQ(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
    expect_open_error(FDB_ERR_FILE_CORRUPT, "foreign LMDB");
}

static void test_bad_magic(void)
{
    store *s = open_ok();
    MDB_txn *txn;
    CHECK_EQ(mdb_txn_begin(s->env, NULL, 0, &txn), 0);
    MDB_val k = {5, "magic"}, v = {5, "other"};
    CHECK_EQ(mdb_put(txn, s->meta, &k, &v, 0), 0);
    CHECK_EQ(mdb_txn_commit(txn), 0);
    store_close(s);
    expect_open_error(FDB_ERR_FILE_CORRUPT, "bad magic");
}

static void test_unknown_format(void)
{
    store *s = open_ok();
    MDB_txn *txn;
    CHECK_EQ(mdb_txn_begin(s->env, NULL, 0, &txn), 0);
    CHECK_EQ(store_meta_put_i64(txn, s, "format", STORE_FORMAT + 1), 0);
    CHECK_EQ(mdb_txn_commit(txn), 0);
    store_close(s);
    expect_open_error(FDB_ERR_FILE_CORRUPT, "unsupported found engine format");
}

static void test_garbage_lock_file_is_rebuilt(void)
{
    store *s = open_ok();
    CHECK_EQ(set1(s, "k", "v"), 0);
    store_close(s);
    static uint8_t junk[8192];
    memset(junk, 0xA5, sizeof junk);
    write_file("lock.mdb", junk, sizeof junk);   /* the first opener rebuilds it */
    s = open_ok();
    CHECK(!strcmp(get(s, "k"), "v"));
    CHECK_EQ(set1(s, "k", "w"), 0);
    store_close(s);
}

static void test_not_a_directory(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/plain", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fclose(f);
    store *s;
    char detail[1024];
    CHECK_EQ(store_open(path, &s, detail, sizeof detail), FDB_ERR_FILE_NOT_FOUND);
    CHECK(strstr(detail, "plain") != NULL);
}

static void test_map_full_fails_batch(void)
{
    /* run with FOUND_ENGINE_MAP_SIZE small (the pytest wrapper sets it) */
    store *s = open_ok();
    CHECK_EQ(set1(s, "keep", "1"), 0);
    static uint8_t big[90000];
    memset(big, 'b', sizeof big);
    int err = 0, i;
    for (i = 0; i < 1000 && !err; i++) {
        char k[16];
        snprintf(k, sizeof k, "big%04d", i);
        mutation m[2] = {{MUT_SET, 0, S(k), NULL, 0, big, sizeof big}, set_m("keep", "2")};
        err = commit(s, 0, NULL, 0, m, 2, NULL);
    }
    CHECK_EQ(err, FDB_ERR_IO_ERROR);
    /* the failed commit left nothing behind; earlier ones are intact */
    char k[16];
    snprintf(k, sizeof k, "big%04d", i - 1);
    CHECK(!strcmp(get(s, k), "<absent>"));
    CHECK(!strcmp(get(s, "keep"), i > 1 ? "2" : "1"));
    mutation clr = {MUT_CLEAR_RANGE, 0, S("big"), S("bih"), NULL, 0};
    CHECK_EQ(commit(s, 0, NULL, 0, &clr, 1, NULL), 0);   /* the store still works */
    CHECK_EQ(set1(s, "after", "ok"), 0);
    store_close(s);
}

/* --- long keys: random operations checked against an in-memory model ----- */

typedef struct mkey { uint8_t *k; int kl; uint8_t v[8]; int vl; } mkey;
static mkey model[256];
static int n_model;

/* Keys clustered around the LMDB limit so that many share bucket records. */
static int random_key(uint8_t *buf)
{
    static const int lens[] = {0, 1, STORE_MAX_KEY - 1, STORE_MAX_KEY, STORE_MAX_KEY + 1,
                               STORE_MAX_KEY + 2, STORE_MAX_KEY + 7, 1000, 10000};
    static const uint8_t tail[] = {0x00, 'a', 'b', 0xff};
    int len = lens[rand() % 9];
    memset(buf, 'a', (size_t)len);
    if (len > 3 && rand() % 3 == 0) buf[len / 2] = 'b';          /* another prefix */
    for (int i = len - 2; i < len; i++) if (i >= 0) buf[i] = tail[rand() % 4];
    return len;
}

static int model_find(const uint8_t *k, int kl, int *exact)
{
    int i = 0;
    while (i < n_model && ucmp(model[i].k, model[i].kl, k, kl) < 0) i++;
    *exact = i < n_model && !ucmp(model[i].k, model[i].kl, k, kl);
    return i;
}

static void model_set(const uint8_t *k, int kl, const uint8_t *v, int vl)
{
    int exact, i = model_find(k, kl, &exact);
    if (!exact) {
        CHECK(n_model < 256);
        memmove(model + i + 1, model + i, sizeof model[0] * (size_t)(n_model - i));
        n_model++;
        model[i].k = malloc((size_t)kl + 1);
        memcpy(model[i].k, k, (size_t)kl);
        model[i].kl = kl;
    }
    memcpy(model[i].v, v, (size_t)vl);
    model[i].vl = vl;
}

static void model_clear(const uint8_t *b, int bl, const uint8_t *e, int el)
{
    int j = 0;
    for (int i = 0; i < n_model; i++) {
        if (ucmp(model[i].k, model[i].kl, b, bl) >= 0 && ucmp(model[i].k, model[i].kl, e, el) < 0) free(model[i].k);
        else model[j++] = model[i];
    }
    n_model = j;
}

static void check_against_model(store *s)
{
    snapshot *snap;
    store_cursor *c;
    int valid, i = 0, kl, vl, found;
    const uint8_t *k, *v;
    CHECK_EQ(store_snapshot_latest(s, &snap), 0);
    CHECK_EQ(snapshot_cursor_open(snap, &c), 0);
    CHECK_EQ(cursor_seek_ge(c, NULL, 0, &valid), 0);
    for (; valid; must(cursor_next(c, &valid)), i++) {
        cursor_current(c, &k, &kl, &v, &vl);
        CHECK(i < n_model && !ucmp(k, kl, model[i].k, model[i].kl));
        CHECK(vl == model[i].vl && !memcmp(v, model[i].v, (size_t)vl));
    }
    CHECK_EQ(i, n_model);
    CHECK_EQ(cursor_seek_lt(c, NULL, 0, &valid), 0);
    for (i = n_model - 1; valid; must(cursor_prev(c, &valid)), i--) {
        cursor_current(c, &k, &kl, &v, &vl);
        CHECK(i >= 0 && !ucmp(k, kl, model[i].k, model[i].kl));
    }
    CHECK_EQ(i, -1);
    static uint8_t probe[10001];
    for (int t = 0; t < 12; t++) {
        int pl = random_key(probe), exact, at = model_find(probe, pl, &exact);
        CHECK_EQ(cursor_seek_ge(c, probe, pl, &valid), 0);
        CHECK_EQ(valid, at < n_model);
        if (valid) { cursor_current(c, &k, &kl, &v, &vl); CHECK(!ucmp(k, kl, model[at].k, model[at].kl)); }
        CHECK_EQ(cursor_seek_lt(c, probe, pl, &valid), 0);
        CHECK_EQ(valid, at > 0);
        if (valid) { cursor_current(c, &k, &kl, &v, &vl); CHECK(!ucmp(k, kl, model[at - 1].k, model[at - 1].kl)); }
        CHECK_EQ(snapshot_get(snap, probe, pl, &found, &v, &vl), 0);
        CHECK_EQ(found, exact);
        if (found) CHECK(vl == model[at].vl && !memcmp(v, model[at].v, (size_t)vl));
    }
    cursor_close(c);
    snapshot_release(snap);
}

static void test_long_keys_model(void)
{
    store *s = open_ok();
    static uint8_t kbuf[4][10001];
    srand(12345);
    for (int round = 0; round < 150; round++) {
        mutation m[3];
        uint8_t vals[3][8];
        int nm = 1 + rand() % 3;
        for (int i = 0; i < nm; i++) {
            int op = rand() % 10, kl = random_key(kbuf[i]);
            snprintf((char *)vals[i], 8, "v%d", rand() % 100);
            if (op < 6) {
                m[i] = (mutation){MUT_SET, 0, kbuf[i], kl, NULL, 0, vals[i], (int)strlen((char *)vals[i])};
            } else if (op < 8) {
                int el = random_key(kbuf[3]);
                uint8_t *e = malloc((size_t)el + 1);
                memcpy(e, kbuf[3], (size_t)el);
                m[i] = (mutation){MUT_CLEAR_RANGE, 0, kbuf[i], kl, e, el, NULL, 0};
            } else {   /* compare_and_clear with the value the model holds, if any */
                int exact, at = model_find(kbuf[i], kl, &exact);
                const uint8_t *cmp = exact ? model[at].v : (const uint8_t *)"x";
                int cl = exact ? model[at].vl : 1;
                memcpy(vals[i], cmp, (size_t)cl);
                m[i] = (mutation){MUT_ATOMIC, FDB_MUTATION_TYPE_COMPARE_AND_CLEAR, kbuf[i], kl, NULL, 0, vals[i], cl};
            }
        }
        waiter w;
        waiter_init(&w, 0, NULL, 0, NULL, 0, m, nm);
        store_commit_submit(s, &w.req);
        CHECK_EQ(waiter_wait(&w), 0);
        for (int i = 0; i < nm; i++) {
            if (m[i].kind == MUT_SET) model_set(m[i].key, m[i].key_len, m[i].param, m[i].param_len);
            else if (m[i].kind == MUT_CLEAR_RANGE) {
                if (ucmp(m[i].key, m[i].key_len, m[i].end, m[i].end_len) < 0)
                    model_clear(m[i].key, m[i].key_len, m[i].end, m[i].end_len);
                free((void *)m[i].end);
            } else {
                int exact, at = model_find(m[i].key, m[i].key_len, &exact);
                if (exact && model[at].vl == m[i].param_len && !memcmp(model[at].v, m[i].param, (size_t)m[i].param_len)) {
                    free(model[at].k);
                    memmove(model + at, model + at + 1, sizeof model[0] * (size_t)(n_model - at - 1));
                    n_model--;
                }
            }
        }
        check_against_model(s);
    }
    CHECK(n_model > 3);   /* the run exercised non-trivial states */
    for (int i = 0; i < n_model; i++) free(model[i].k);
    store_close(s);
}

/* ---- the gathering policy (store_gather.c): pure bookkeeping, driven
 * here by a simulated clock and commit rate ---- */

#define G_MS 1000000ll

static int gather_short(const gather_policy *p)
{
    return gather_wait_ns(p, 1 * G_MS) < 200000; /* the long wait is at least 200 µs */
}

/* Run `ms` milliseconds of 1 ms batches, each of `short_n` requests when
 * the short wait is in use and `long_n` otherwise, the queue idle for
 * `idle_us` of each; returns how many of those batches used the short wait. */
static int gather_run(gather_policy *p, int64_t *now, int ms, int long_n, int short_n, int idle_us)
{
    int used_short = 0;
    for (int i = 0; i < ms; i++) {
        int is_short = gather_short(p);
        used_short += is_short;
        gather_note_idle(p, idle_us * 1000ll);
        *now += G_MS;
        gather_note_batch(p, is_short ? short_n : long_n, *now);
    }
    return used_short;
}

static void test_gather_wait_bounds(void)
{
    gather_policy p;
    gather_init(&p);
    CHECK_EQ(gather_wait_ns(&p, 1 * G_MS), 1 * G_MS);  /* long: as long as the last commit */
    CHECK_EQ(gather_wait_ns(&p, 1000), 200000);        /* at least 200 µs */
    CHECK_EQ(gather_wait_ns(&p, 60000 * G_MS), 10 * G_MS); /* at most 10 ms */
    p.short_wait = 1;
    CHECK_EQ(gather_wait_ns(&p, 1 * G_MS), 100000);    /* short: a tenth */
    CHECK_EQ(gather_wait_ns(&p, 1000), 20000);         /* at least 20 µs */
    CHECK_EQ(gather_wait_ns(&p, 60000 * G_MS), 10 * G_MS);
}

/* When the short wait batches more, the store moves to it and stays;
 * when the long one does, it stays long and duels less and less often. */
static void test_gather_keeps_the_faster_way(void)
{
    gather_policy p;
    int64_t now = G_MS;
    gather_init(&p);
    gather_run(&p, &now, 200, 30, 40, 0);
    CHECK(gather_short(&p));
    int tries = gather_run(&p, &now, 2000, 30, 40, 0);
    CHECK(tries > 2000 * 9 / 10); /* the long wait only in duels, ever rarer */
    CHECK(gather_run(&p, &now, 2000, 30, 40, 0) > tries);

    gather_init(&p);
    now = G_MS;
    gather_run(&p, &now, 200, 40, 30, 0);
    CHECK(!gather_short(&p));
    int early = gather_run(&p, &now, 2000, 40, 30, 0);
    int late = gather_run(&p, &now, 2000, 40, 30, 0);
    CHECK(early > 0);      /* it keeps trying the other way... */
    CHECK(late < early);   /* ...less often as the long wait keeps winning clearly */
    CHECK(!gather_short(&p));

    /* the clients change: the short wait now wins, and the store follows */
    gather_run(&p, &now, 12000, 30, 40, 0);
    CHECK(gather_short(&p));
}

/* A 1 % difference is noise: no switch. */
static void test_gather_needs_a_clear_gain(void)
{
    gather_policy p;
    int64_t now = G_MS;
    gather_init(&p);
    int tries = gather_run(&p, &now, 3000, 100, 101, 0);
    CHECK(!gather_short(&p));
    CHECK(tries > 0 && tries < 3000 / 2);
}

/* Windows in which the queue was mostly empty say nothing: however much
 * faster the other way looks there, nothing changes. */
static void test_gather_ignores_idle_windows(void)
{
    gather_policy p;
    int64_t now = G_MS;
    gather_init(&p);
    gather_run(&p, &now, 1000, 1, 50, 600);
    CHECK(!gather_short(&p));
    /* once the clients are busy, the evidence counts again */
    gather_run(&p, &now, 200, 30, 40, 0);
    CHECK(gather_short(&p));
}

typedef struct test { const char *name; void (*fn)(void); } test;
static const test tests[] = {
    {"open_set_get", test_open_set_get},
    {"empty_key_and_long_keys", test_empty_key_and_long_keys},
    {"cursors_and_clear_range", test_cursors_and_clear_range},
    {"clear_range_many_pages", test_clear_range_many_pages},
    {"long_keys_model", test_long_keys_model},
    {"estimate_range_sampled", test_estimate_range_sampled},
    {"estimate_range_rewrites", test_estimate_range_rewrites},
    {"atomic_ops", test_atomic_ops},
    {"atomic_commits", test_atomic_commits},
    {"versionstamps", test_versionstamps},
    {"batch_index_and_in_batch_conflict", test_batch_index_and_in_batch_conflict},
    {"after_batch_runs_after_each_run", test_after_batch_runs_after_each_run},
    {"batch_history_covers_every_request", test_batch_history_covers_every_request},
    {"completions_follow_commit_order", test_completions_follow_commit_order},
    {"batches_are_bounded", test_batches_are_bounded},
    {"read_set_matches_naive", test_read_set_matches_naive},
    {"conflicts", test_conflicts},
    {"too_old", test_too_old},
    {"history_pruned", test_history_pruned},
    {"history_floor_boundaries", test_history_floor_boundaries},
    {"snapshot_at", test_snapshot_at},
    {"reader_table_full", test_reader_table_full},
    {"watches", test_watches},
    {"watch_other_process", test_watch_other_process},
    {"multi_process_counters", test_multi_process_counters},
    {"corrupt_random_bytes", test_corrupt_random_bytes},
    {"corrupt_text_file", test_corrupt_text_file},
    {"corrupt_truncated", test_corrupt_truncated},
    {"damaged_pages", test_damaged_pages},
    {"foreign_lmdb", test_foreign_lmdb},
    {"bad_magic", test_bad_magic},
    {"unknown_format", test_unknown_format},
    {"garbage_lock_file_is_rebuilt", test_garbage_lock_file_is_rebuilt},
    {"not_a_directory", test_not_a_directory},
    {"map_full_fails_batch", test_map_full_fails_batch},
    {"writer_killed_holding_the_lock", test_writer_killed_holding_the_lock},
    {"shared_snapshots_stay_consistent", test_shared_snapshots_stay_consistent},
    {"pinned_snapshot_read_by_threads", test_pinned_snapshot_read_by_threads},
    {"fork_child_opens_afresh", test_fork_child_opens_afresh},
    {"fork_child_cannot_use_parents_store", test_fork_child_cannot_use_parents_store},
    {"gather_wait_bounds", test_gather_wait_bounds},
    {"gather_keeps_the_faster_way", test_gather_keeps_the_faster_way},
    {"gather_needs_a_clear_gain", test_gather_needs_a_clear_gain},
    {"gather_ignores_idle_windows", test_gather_ignores_idle_windows},
    {"_child_set_w", child_set_w},
    {"_child_hold_write_lock", child_hold_write_lock},
    {"_child_add", child_add},
};

int main(int argc, char **argv)
{
    int n = (int)(sizeof tests / sizeof tests[0]);
    if (argc == 2 && !strcmp(argv[1], "--list")) {
        for (int i = 0; i < n; i++)
            if (tests[i].name[0] != '_') puts(tests[i].name);
        return 0;
    }
    if (argc != 3) {
        fprintf(stderr, "usage: %s --list | NAME DIR\n", argv[0]);
        return 2;
    }
    dir = argv[2];
    for (int i = 0; i < n; i++)
        if (!strcmp(tests[i].name, argv[1])) {
            tests[i].fn();
            return 0;
        }
    fprintf(stderr, "no test named %s\n", argv[1]);
    return 2;
}
