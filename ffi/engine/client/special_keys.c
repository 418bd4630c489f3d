/*
 * special_keys.c — the special key space (see special_keys.h).
 *
 * A range read is answered the way FoundationDB's SpecialKeySpace does it:
 * the module holding the begin key must also hold the end key (unless
 * special_key_space_relaxed), the module's rows are listed, the selectors
 * are resolved among them (clamped to the module) and the rows between
 * returned, limits applied. Modules list their rows sorted; most are empty
 * here (no workers, metrics, tenants, ...).
 */
#include "client/special_keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/future.h"
#include "client/kv_out.h"

/* ---- rows ------------------------------------------------------------------ */

typedef struct sk_row {
    const uint8_t *key;
    int key_len;
    const uint8_t *value;
    int value_len;
} sk_row;

typedef struct sk_rows {
    arena a;
    vec rows; /* sk_row, sorted by key */
} sk_rows;

static int row(sk_rows *out, const uint8_t *prefix, int pl, const uint8_t *suffix, int sl, const void *value,
               int vl) {
    sk_row *r = vec_push(&out->rows);
    uint8_t *k = arena_alloc(&out->a, (size_t)(pl + sl) + 1);
    uint8_t *v = arena_dup(&out->a, vl ? value : "", (size_t)vl + 1);
    if (!r || !k || !v) return FDB_ERR_INTERNAL_ERROR;
    memcpy(k, prefix, (size_t)pl);
    if (sl) memcpy(k + pl, suffix, (size_t)sl);
    *r = (sk_row){k, pl + sl, v, vl};
    return 0;
}

/* ---- modules ---------------------------------------------------------------- */

typedef int (*sk_list_fn)(FDBTransaction *tr, sk_rows *out);

typedef struct sk_module {
    const char *name; /* after \xff\xff; a range module ends in '/' */
    int single;       /* one key, not a range */
    sk_list_fn list;  /* NULL: nothing to show */
} sk_module;

static int list_transaction(FDBTransaction *tr, sk_rows *out);
static int list_status(FDBTransaction *tr, sk_rows *out);
static int list_connection_string(FDBTransaction *tr, sk_rows *out);
static int list_cluster_file_path(FDBTransaction *tr, sk_rows *out);

/* FoundationDB 7.3's modules (SpecialKeySpace::moduleToBoundary), sorted. */
static const sk_module MODULES[] = {
    {"/actor_lineage/", 0, NULL},
    {"/actor_profiler_conf/", 0, NULL},
    {"/cluster_file_path", 1, list_cluster_file_path},
    {"/cluster_id", 1, NULL},
    {"/configuration/", 0, NULL},
    {"/connection_string", 1, list_connection_string},
    {"/error_message", 1, NULL},
    {"/global_config/", 0, NULL},
    {"/management/", 0, NULL}, /* tenant/map/ is empty: tenant mode off */
    {"/metrics/", 0, NULL},
    {"/status/json", 1, list_status},
    {"/tracing/", 0, NULL},
    {"/transaction/", 0, list_transaction},
    {"/worker_interfaces/", 0, NULL},
};
#define N_MODULES ((int)(sizeof MODULES / sizeof MODULES[0]))

#define SK_BEGIN ((const uint8_t *)"\xff\xff")
#define SK_END   ((const uint8_t *)"\xff\xff\xff")
#define KEY_MAX  64

typedef struct sk_range {
    uint8_t b[KEY_MAX], e[KEY_MAX];
    int bl, el;
} sk_range;

static void set_key(uint8_t *dst, int *len, const uint8_t *src, int n) {
    memcpy(dst, src, (size_t)n);
    *len = n;
}

/* [\xff\xff<name>, \xff\xff<name>\0) for one key, else the name with its
 * final '/' turned into '0'. */
static void module_range(int i, sk_range *r) {
    int n = (int)strlen(MODULES[i].name);
    r->b[0] = r->b[1] = 0xff;
    memcpy(r->b + 2, MODULES[i].name, (size_t)n);
    r->bl = n + 2;
    set_key(r->e, &r->el, r->b, r->bl);
    if (MODULES[i].single)
        r->e[r->el++] = 0;
    else
        r->e[r->el - 1] = '0';
}

/* The module holding key (its index, its range), or -1 and the gap between
 * modules holding it. */
static int module_of(const uint8_t *key, int key_len, sk_range *out) {
    set_key(out->b, &out->bl, SK_BEGIN, 2);
    set_key(out->e, &out->el, SK_END, 3);
    for (int i = 0; i < N_MODULES; i++) {
        sk_range r;
        module_range(i, &r);
        if (bytes_cmp(key, key_len, r.b, r.bl) < 0) {
            set_key(out->e, &out->el, r.b, r.bl);
            return -1;
        }
        if (bytes_cmp(key, key_len, r.e, r.el) < 0) {
            *out = r;
            return i;
        }
        set_key(out->b, &out->bl, r.e, r.el);
    }
    return -1;
}

int sk_contains_key(const uint8_t *key, int key_len) {
    return bytes_cmp(key, key_len, SK_BEGIN, 2) >= 0 && bytes_cmp(key, key_len, SK_END, 3) < 0;
}

int sk_routes_range(const uint8_t *b, int bl, const uint8_t *e, int el) {
    return sk_contains_key(b, bl) && bytes_cmp(e, el, SK_BEGIN, 2) >= 0 && bytes_cmp(e, el, SK_END, 3) <= 0;
}

/* ---- the transaction module: conflict ranges -------------------------------- */

static int range_cmp(const void *x, const void *y) {
    const key_range *a = x, *b = y;
    return bytes_cmp(a->begin, a->begin_len, b->begin, b->begin_len);
}

/* Ranges merged where they overlap or touch, as rows prefix+begin → "1",
 * prefix+end → "0" (FoundationDB's coalesced range map of the ranges). */
static int list_ranges(const key_range *ranges, size_t n, const char *prefix, sk_rows *out) {
    if (!n) return 0;
    key_range *r = malloc(sizeof *r * n);
    if (!r) return FDB_ERR_INTERNAL_ERROR;
    memcpy(r, ranges, sizeof *r * n);
    qsort(r, n, sizeof *r, range_cmp);
    const uint8_t *p = (const uint8_t *)prefix;
    int pl = (int)strlen(prefix), err = 0;
    size_t i = 0;
    while (!err && i < n) {
        const uint8_t *b = r[i].begin, *e = r[i].end;
        int bl = r[i].begin_len, el = r[i].end_len;
        for (i++; i < n && bytes_cmp(r[i].begin, r[i].begin_len, e, el) <= 0; i++)
            if (bytes_cmp(r[i].end, r[i].end_len, e, el) > 0) e = r[i].end, el = r[i].end_len;
        if (bytes_cmp(b, bl, e, el) >= 0) continue;
        err = row(out, p, pl, b, bl, "1", 1);
        if (!err) err = row(out, p, pl, e, el, "0", 1);
    }
    free(r);
    return err;
}

static int list_transaction(FDBTransaction *tr, sk_rows *out) {
    pthread_mutex_lock(&tr->lock); /* set by the commit thread */
    int err = list_ranges(tr->conflicting, (size_t)tr->n_conflicting,
                          "\xff\xff/transaction/conflicting_keys/", out);
    pthread_mutex_unlock(&tr->lock);
    if (!err && tr->wr)
        err = list_ranges(tr->wr->reads.items, tr->wr->reads.len, "\xff\xff/transaction/read_conflict_range/",
                          out);
    if (!err && tr->wr)
        err = list_ranges(tr->wr->writes.items, tr->wr->writes.len,
                          "\xff\xff/transaction/write_conflict_range/", out);
    return err;
}

/* ---- status/json, connection_string, cluster_file_path ---------------------- */

/* s as a JSON string body (quotes and control characters escaped). */
static int json_escape(char *out, size_t cap, const char *s) {
    size_t n = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char tmp[8];
        int k = c == '"' || c == '\\' ? snprintf(tmp, sizeof tmp, "\\%c", c)
                : c < 0x20            ? snprintf(tmp, sizeof tmp, "\\u%04x", c)
                                      : snprintf(tmp, sizeof tmp, "%c", c);
        if (n + (size_t)k + 1 > cap) return -1;
        memcpy(out + n, tmp, (size_t)k);
        n += (size_t)k;
    }
    out[n] = 0;
    return 0;
}

/* FoundationDB's status layout, with what an embedded engine can say truthfully. */
static int list_status(FDBTransaction *tr, sk_rows *out) {
    char path[4096], doc[8192];
    if (json_escape(path, sizeof path, tr->db->cluster_file_path)) path[0] = 0;
    int n = snprintf(doc, sizeof doc,
                     "{\"client\":{\"cluster_file\":{\"path\":\"%s\",\"up_to_date\":true},"
                     "\"coordinators\":{\"coordinators\":[],\"quorum_reachable\":true},"
                     "\"database_status\":{\"available\":true,\"healthy\":true},"
                     "\"messages\":[],\"timestamp\":%lld},"
                     "\"cluster\":{\"database_available\":true,"
                     "\"database_lock_state\":{\"locked\":false},"
                     "\"configuration\":{\"tenant_mode\":\"disabled\"},"
                     "\"latest_committed_version\":%lld,"
                     "\"layers\":{\"_valid\":true},\"messages\":[],"
                     "\"protocol_version\":\"fdb00b073000000\"}}",
                     path, (long long)time(NULL), (long long)store_committed_version(tr->db->s));
    if (n < 0 || n >= (int)sizeof doc) return FDB_ERR_INTERNAL_ERROR;
    return row(out, (const uint8_t *)"\xff\xff/status/json", 14, NULL, 0, doc, n);
}

static int list_connection_string(FDBTransaction *tr, sk_rows *out) {
    const char *s = tr->db->connection_string;
    return row(out, (const uint8_t *)"\xff\xff/connection_string", 20, NULL, 0, s, (int)strlen(s));
}

static int list_cluster_file_path(FDBTransaction *tr, sk_rows *out) {
    const char *s = tr->db->cluster_file_path;
    return row(out, (const uint8_t *)"\xff\xff/cluster_file_path", 20, NULL, 0, s, (int)strlen(s));
}

/* ---- reads ------------------------------------------------------------------ */

/* Every row of the modules meeting [b, e), sorted. */
static int special_keys_list(FDBTransaction *tr, const sk_range *bound, sk_rows *out) {
    for (int i = 0; i < N_MODULES; i++) {
        sk_range r;
        module_range(i, &r);
        if (!MODULES[i].list || bytes_cmp(r.e, r.el, bound->b, bound->bl) <= 0 ||
            bytes_cmp(r.b, r.bl, bound->e, bound->el) >= 0)
            continue;
        int err = MODULES[i].list(tr, out);
        if (err) return err;
    }
    return 0;
}

/* The first row >= key. */
static int lower_bound(const sk_rows *rows, const uint8_t *key, int key_len) {
    int lo = 0, hi = (int)rows->rows.len;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        const sk_row *r = vec_at(&rows->rows, (size_t)mid);
        if (bytes_cmp(r->key, r->key_len, key, key_len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Where a selector (or_equal already folded into key) lands among the
 * rows, clamped to the bound. */
static void resolve(const sk_rows *rows, const sk_range *bound, const uint8_t *key, int key_len, int offset,
                    const uint8_t **out, int *out_len) {
    if (offset == 1) {
        *out = key;
        *out_len = key_len;
        return;
    }
    long idx = (long)lower_bound(rows, key, key_len) + offset - 1;
    if (idx < 0) {
        *out = bound->b;
        *out_len = bound->bl;
    } else if (idx >= (long)rows->rows.len) {
        *out = bound->e;
        *out_len = bound->el;
    } else {
        const sk_row *r = vec_at(&rows->rows, (size_t)idx);
        *out = r->key;
        *out_len = r->key_len;
    }
}

/* The range a read may cover: its begin key's module, which must hold the
 * end key too (FoundationDB: 2113 outside any module, 2112 across two). */
static int read_bound(FDBTransaction *tr, const uint8_t *b, int bl, const uint8_t *e, int el,
                      sk_range *bound) {
    if (tr->sk_relaxed) {
        set_key(bound->b, &bound->bl, SK_BEGIN, 2);
        set_key(bound->e, &bound->el, SK_END, 3);
        return 0;
    }
    int m = module_of(b, bl, bound);
    if (bytes_cmp(bound->b, bound->bl, e, el) > 0 || bytes_cmp(e, el, bound->e, bound->el) > 0)
        return FDB_ERR_SPECIAL_KEYS_CROSS_MODULE_READ;
    return m < 0 ? FDB_ERR_SPECIAL_KEYS_NO_MODULE_FOUND : 0;
}

/* A selector with or_equal folded in: (key\0, offset) for (key, true, offset). */
static const uint8_t *fold(const selector *s, uint8_t *scratch, int *len) {
    *len = s->key_len;
    if (!s->or_equal) return s->key;
    memcpy(scratch, s->key, (size_t)s->key_len);
    scratch[(*len)++] = 0;
    return scratch;
}

static int special_keys_read(FDBTransaction *tr, const selector *bsel, const selector *esel, int limit,
                             int64_t byte_limit, int reverse, range_out *o, int *more) {
    uint8_t *bs = malloc((size_t)bsel->key_len + 1), *es = malloc((size_t)esel->key_len + 1);
    sk_rows rows;
    arena_init(&rows.a);
    vec_init(&rows.rows, sizeof(sk_row));
    int err = bs && es ? 0 : FDB_ERR_INTERNAL_ERROR;
    int bl = 0, el = 0;
    const uint8_t *bk = err ? NULL : fold(bsel, bs, &bl);
    const uint8_t *ek = err ? NULL : fold(esel, es, &el);
    sk_range bound;
    if (!err && bsel->offset >= esel->offset && bytes_cmp(bk, bl, ek, el) >= 0) goto done;
    if (!err) err = read_bound(tr, bk, bl, ek, el, &bound);
    if (!err) err = special_keys_list(tr, &bound, &rows);
    if (err) goto done;
    const uint8_t *b, *e;
    resolve(&rows, &bound, bk, bl, bsel->offset, &b, &bl);
    resolve(&rows, &bound, ek, el, esel->offset, &e, &el);
    if (bytes_cmp(b, bl, e, el) >= 0) goto done;
    int lo = lower_bound(&rows, b, bl), hi = lower_bound(&rows, e, el);
    int64_t bytes = 0;
    for (int i = 0; i < hi - lo && !err; i++) {
        const sk_row *r = vec_at(&rows.rows, (size_t)(reverse ? hi - 1 - i : lo + i));
        err = kv_out_append(o, r->key, r->key_len, r->value, r->value_len);
        bytes += r->key_len + r->value_len;
        /* As FoundationDB: reaching a limit says "more", even on the last row. */
        if ((limit && o->count >= limit) || (byte_limit && bytes >= byte_limit)) {
            *more = 1;
            break;
        }
    }
done:
    arena_free(&rows.a);
    vec_free(&rows.rows);
    free(bs);
    free(es);
    return err;
}

FDBFuture *sk_get_range(FDBTransaction *tr, const selector *b, const selector *e, int limit,
                        int64_t byte_limit, int reverse) {
    int err = 0;
    FDBFuture *f = future_new(FK_KV_ARRAY);
    if (!f) return future_error(FDB_ERR_INTERNAL_ERROR);
    range_out o = {f, 0, 0};
    int more = 0;
    err = special_keys_read(tr, b, e, limit, byte_limit, reverse, &o, &more);
    if (!err) {
        kv_out_finish(&o);
        f->more = more;
    } else {
        f->count = 0;
    }
    future_set_ready_fresh(f, err);
    return f;
}

FDBFuture *sk_get(FDBTransaction *tr, const uint8_t *key, int key_len) {
    FDBFuture *rows =
        sk_get_range(tr, &(selector){key, key_len, 0, 1}, &(selector){key, key_len, 1, 1}, 0, 0, 0);
    if (rows->err) return rows;
    FDBFuture *f = future_new(FK_VALUE);
    int err = f ? 0 : FDB_ERR_INTERNAL_ERROR;
    if (!err && rows->count) {
        const FDBKeyValue *kv = &rows->kvs[0];
        if (!future_reserve(f, (size_t)kv->value_length + 1)) {
            err = FDB_ERR_INTERNAL_ERROR;
        } else {
            if (kv->value_length) memcpy(f->buf, kv->value, (size_t)kv->value_length);
            f->buf_len = (size_t)kv->value_length;
            f->present = 1;
        }
    }
    future_release(rows);
    if (!f) return future_error(err);
    future_set_ready_fresh(f, err);
    return f;
}

/* ---- writes ----------------------------------------------------------------- */

/* The one writable module range: tenant management. */
static const uint8_t TENANT_BEGIN[] = "\xff\xff/management/tenant/";
static const uint8_t TENANT_END[] = "\xff\xff/management/tenant0";
#define TENANT_LEN 22

static int in_tenant(const uint8_t *key, int key_len) {
    return bytes_cmp(key, key_len, TENANT_BEGIN, TENANT_LEN) >= 0 &&
           bytes_cmp(key, key_len, TENANT_END, TENANT_LEN) < 0;
}

int sk_set(FDBTransaction *tr, const uint8_t *key, int key_len) {
    if (!tr->sk_writes) return FDB_ERR_SPECIAL_KEYS_WRITE_DISABLED;
    if (!in_tenant(key, key_len)) return FDB_ERR_SPECIAL_KEYS_NO_WRITE_MODULE_FOUND;
    tr->sk_tenant_sets++; /* fails at commit: no tenant can be created */
    return 0;
}

int sk_clear_key(FDBTransaction *tr, const uint8_t *key, int key_len) {
    if (!tr->sk_writes) return FDB_ERR_SPECIAL_KEYS_WRITE_DISABLED;
    /* Deleting tenants that cannot exist: nothing to do at commit. */
    return in_tenant(key, key_len) ? 0 : FDB_ERR_SPECIAL_KEYS_NO_WRITE_MODULE_FOUND;
}

int sk_clear_range(FDBTransaction *tr, const uint8_t *b, int bl, const uint8_t *e, int el) {
    if (!tr->sk_writes) return FDB_ERR_SPECIAL_KEYS_WRITE_DISABLED;
    if (bytes_cmp(b, bl, e, el) >= 0) return 0;
    /* Where the first and the last key of the range belong. */
    int first = in_tenant(b, bl);
    int last =
        bytes_cmp(e, el, TENANT_BEGIN, TENANT_LEN) > 0 && bytes_cmp(e, el, TENANT_END, TENANT_LEN) <= 0;
    if (first != last) return FDB_ERR_SPECIAL_KEYS_CROSS_MODULE_CLEAR;
    return first ? 0 : FDB_ERR_SPECIAL_KEYS_NO_WRITE_MODULE_FOUND;
}

int sk_commit_check(const FDBTransaction *tr) { return tr->sk_tenant_sets ? FDB_ERR_TENANTS_DISABLED : 0; }
