/* buggify.c — see buggify.h. */
#include "buggify.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "client.h"

volatile int buggify_enabled;
static pthread_mutex_t _lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t _state;
static int _seeded;
/* FoundationDB's defaults (P_CLIENT_BUGGIFIED_SECTION_ACTIVATED/_FIRES) and
 * its read sites' CLIENT_BUGGIFY_WITH_PROB(.01). */
static int _activated_pct = 25, _fired_pct = 25, _read_fired_pct = 1;
static int _decided[BUG_SECTIONS], _active[BUG_SECTIONS];
static atomic_llong _counts[BUG_SECTIONS];

static void _after_fork_child(void) {
    pthread_mutex_init(&_lock, NULL);          /* see future.c */
}

__attribute__((constructor)) static void _register_fork_handler(void) {
    pthread_atfork(NULL, NULL, _after_fork_child);
}

/* splitmix64: small, fast, good enough for fault decisions. */
static uint64_t _next(void) {
    uint64_t z = (_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void _seed(void) {
    const char *env = getenv("FOUND_BUGGIFY_SEED");
    _state = env && *env ? strtoull(env, NULL, 0) : 1;
    _seeded = 1;
}

void buggify_set_enabled(int on) {
    pthread_mutex_lock(&_lock);
    if (on) {
        _seed();
        for (int i = 0; i < BUG_SECTIONS; i++) _decided[i] = _active[i] = 0;
    }
    buggify_enabled = on;
    pthread_mutex_unlock(&_lock);
}

static int _set_pct(int *dst, int64_t pct) {
    if (pct < 0 || pct > 100) return FDB_ERR_INVALID_OPTION_VALUE;
    pthread_mutex_lock(&_lock);
    *dst = (int)pct;
    pthread_mutex_unlock(&_lock);
    return 0;
}

int buggify_set_activated_probability(int64_t percent) {
    return _set_pct(&_activated_pct, percent);
}

int buggify_set_fired_probability(int64_t percent) {
    return _set_pct(&_fired_pct, percent);
}

int buggify_set_read_fired_probability(int64_t percent) {
    return _set_pct(&_read_fired_pct, percent);
}

int buggify_fires(int section) {
    int fire = buggify_decides(section);
    if (fire) buggify_count(section);
    return fire;
}

void buggify_count(int section) {
    atomic_fetch_add(&_counts[section], 1);
}

int buggify_decides(int section) {
    if (!buggify_enabled) return 0;
    pthread_mutex_lock(&_lock);
    if (!_seeded) _seed();
    if (!_decided[section]) {
        _decided[section] = 1;
        _active[section] = (int)(_next() % 100) < _activated_pct;
    }
    int pct = section == BUG_READ_ERROR ? _read_fired_pct : _fired_pct;
    int fire = _active[section] && (int)(_next() % 100) < pct;
    pthread_mutex_unlock(&_lock);
    return fire;
}

uint64_t buggify_random(uint64_t n) {
    pthread_mutex_lock(&_lock);
    if (!_seeded) _seed();
    uint64_t r = n ? _next() % n : 0;
    pthread_mutex_unlock(&_lock);
    return r;
}

/* Injected-fault counts by section (enum buggify_section order): fills up
 * to n entries of out and returns the number of sections. */
FDB_EXPORT int found_engine_fault_counts(int64_t *out, int n) {
    for (int i = 0; i < n && i < BUG_SECTIONS; i++) out[i] = atomic_load(&_counts[i]);
    return BUG_SECTIONS;
}
