/* buggify.c — see buggify.h. */
#include "util/buggify.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "util/base.h"

volatile int buggify_enabled;
static pthread_mutex_t buggify_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t buggify_state;
static int seeded;
/* FoundationDB's defaults (P_CLIENT_BUGGIFIED_SECTION_ACTIVATED/_FIRES) and
 * its read sites' CLIENT_BUGGIFY_WITH_PROB(.01). */
static int activated_pct = 25, buggify_fired_pct = 25, buggify_read_fired_pct = 1;
static int decided[BUG_SECTIONS], buggify_active[BUG_SECTIONS];
static atomic_llong buggify_counts[BUG_SECTIONS];

static void after_fork_child(void) { pthread_mutex_init(&buggify_lock, NULL); /* see future.c */ }

__attribute__((constructor)) static void register_fork_handler(void) {
    pthread_atfork(NULL, NULL, after_fork_child);
}

/* splitmix64: small, fast, good enough for fault decisions. */
static uint64_t buggify_next(void) {
    uint64_t z = (buggify_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void seed(void) {
    const char *env = getenv("FOUND_BUGGIFY_SEED");
    buggify_state = env && *env ? strtoull(env, NULL, 0) : 1;
    seeded = 1;
}

void buggify_set_enabled(int on) {
    pthread_mutex_lock(&buggify_lock);
    if (on) {
        seed();
        for (int i = 0; i < BUG_SECTIONS; i++) decided[i] = buggify_active[i] = 0;
    }
    buggify_enabled = on;
    pthread_mutex_unlock(&buggify_lock);
}

static int set_pct(int *dst, int64_t pct) {
    if (pct < 0 || pct > 100) return FDB_ERR_INVALID_OPTION_VALUE;
    pthread_mutex_lock(&buggify_lock);
    *dst = (int)pct;
    pthread_mutex_unlock(&buggify_lock);
    return 0;
}

int buggify_set_activated_probability(int64_t percent) { return set_pct(&activated_pct, percent); }

int buggify_set_fired_probability(int64_t percent) { return set_pct(&buggify_fired_pct, percent); }

int buggify_set_read_fired_probability(int64_t percent) { return set_pct(&buggify_read_fired_pct, percent); }

int buggify_fires(int section) {
    int fire = buggify_decides(section);
    if (fire) buggify_count(section);
    return fire;
}

void buggify_count(int section) { atomic_fetch_add(&buggify_counts[section], 1); }

int buggify_decides(int section) {
    if (!buggify_enabled) return 0;
    pthread_mutex_lock(&buggify_lock);
    if (!seeded) seed();
    if (!decided[section]) {
        decided[section] = 1;
        buggify_active[section] = (int)(buggify_next() % 100) < activated_pct;
    }
    int pct = section == BUG_READ_ERROR ? buggify_read_fired_pct : buggify_fired_pct;
    int fire = buggify_active[section] && (int)(buggify_next() % 100) < pct;
    pthread_mutex_unlock(&buggify_lock);
    return fire;
}

uint64_t buggify_random(uint64_t n) {
    pthread_mutex_lock(&buggify_lock);
    if (!seeded) seed();
    uint64_t r = n ? buggify_next() % n : 0;
    pthread_mutex_unlock(&buggify_lock);
    return r;
}

/* Injected-fault counts by section (enum buggify_section order): fills up
 * to n entries of out and returns the number of sections. */
FDB_EXPORT int found_engine_fault_counts(int64_t *out, int n) {
    for (int i = 0; i < n && i < BUG_SECTIONS; i++) out[i] = atomic_load(&buggify_counts[i]);
    return BUG_SECTIONS;
}
