/*
 * store_gather.c — how long the commit thread lets a batch fill.
 *
 * Two ways of gathering, and neither wins everywhere:
 *  - long: wait for as many requests as recent batches held, up to as long
 *    as the last durable commit took. One fsync then serves every client.
 *    Best when an fsync is slow next to the clients' turn-around (a slow
 *    disk, or clients that commit again within microseconds).
 *  - short: wait a tenth of that. A batch leaves with whoever is queued and
 *    the stragglers form the next one, filled while this one syncs: two
 *    batches in flight, the clients' own work overlapping the fsync. Best
 *    when the clients take about as long to commit again as an fsync takes
 *    (64 asyncio tasks on one event loop, on a fast disk).
 * A fixed choice loses up to 40 % in the other case (measured: the short
 * wait behind a 2 ms fsync), so the commit thread measures instead. Now and
 * then it holds a duel: four windows of 20 ms, the other way and the way in
 * use taking turns (so a disk that slows down or speeds up meanwhile favours
 * neither), and it keeps whichever batched more requests per second. The
 * clearer the win of the way in use, the longer until the next duel. A
 * window in which the queue was mostly empty says nothing about gathering
 * (the clients were not committing): the duel is called off. Only the
 * commit thread touches this.
 */
#include "storage/store_internal.h"

#define LONG_MIN_NS   200000ll /* the long wait's bounds */
#define LONG_MAX_NS   10000000ll
#define SHORT_DIVISOR 10      /* the short wait: a tenth of the last commit, */
#define SHORT_MIN_NS  20000ll /* at least 20 µs */
#define WINDOW_NS     20000000ll
#define DUEL_WINDOWS  4
#define FIRST_GAP     8    /* windows between duels, at first */
#define LONGEST_GAP   256  /* ~5 s */
#define SWITCH_GAIN   1.02 /* the other way must batch 2 % more to be kept */
#define CLEAR_WIN     1.10 /* the way in use batched 10 % more: duel half as often */

/* A new store starts with the long wait (what the engine always did); its
 * first duel follows its first window of batches. */
void gather_init(gather_policy *p) {
    *p = (gather_policy){.duel_window = -1, .gap = FIRST_GAP, .windows_left = 1};
}

static int uses_short(const gather_policy *p) {
    /* in a duel, even windows try the other way */
    return p->duel_window >= 0 && p->duel_window % 2 == 0 ? !p->short_wait : p->short_wait;
}

int64_t gather_wait_ns(const gather_policy *p, int64_t last_sync_ns) {
    int64_t wait = last_sync_ns;
    if (uses_short(p)) {
        wait /= SHORT_DIVISOR;
        return wait < SHORT_MIN_NS ? SHORT_MIN_NS : wait > LONG_MAX_NS ? LONG_MAX_NS : wait;
    }
    return wait < LONG_MIN_NS ? LONG_MIN_NS : wait > LONG_MAX_NS ? LONG_MAX_NS : wait;
}

void gather_note_idle(gather_policy *p, int64_t ns) { p->idle_ns += ns; }

static void start_gap(gather_policy *p) {
    p->duel_window = -1;
    p->windows_left = p->gap;
}

static void judge(gather_policy *p) {
    double other = (double)p->duel_requests[0] / (double)p->duel_ns[0];
    double in_use = (double)p->duel_requests[1] / (double)p->duel_ns[1];
    if (other > in_use * SWITCH_GAIN) {
        p->short_wait = !p->short_wait;
        p->gap = FIRST_GAP;
    } else if (in_use > other * CLEAR_WIN && p->gap < LONGEST_GAP) {
        p->gap *= 2;
    }
    start_gap(p);
}

/* A window closed after `elapsed` ns with `requests` batched. */
static void close_window(gather_policy *p, long requests, int64_t elapsed) {
    if (p->idle_ns >= elapsed / 2) { /* the clients were idle: no evidence */
        if (p->duel_window >= 0) start_gap(p);
        return;
    }
    if (p->duel_window < 0) {
        if (--p->windows_left <= 0) {
            p->duel_window = 0;
            p->duel_requests[0] = p->duel_requests[1] = 0;
            p->duel_ns[0] = p->duel_ns[1] = 0;
        }
        return;
    }
    int side = p->duel_window % 2; /* 0: the other way, 1: the way in use */
    p->duel_requests[side] += requests;
    p->duel_ns[side] += elapsed;
    if (++p->duel_window == DUEL_WINDOWS) judge(p);
}

void gather_note_batch(gather_policy *p, int n, int64_t now_ns) {
    if (!p->window_start_ns) { /* the first batch opens the first window */
        p->window_start_ns = now_ns;
        p->idle_ns = 0; /* before any batch: not this window's */
    }
    p->requests += n;
    int64_t elapsed = now_ns - p->window_start_ns;
    if (elapsed < WINDOW_NS) return;
    close_window(p, p->requests, elapsed);
    p->window_start_ns = now_ns;
    p->idle_ns = 0;
    p->requests = 0;
}
