/*
 * timer.h — one background thread running delayed tasks (on_error backoff,
 * injected latency). Tasks run in deadline order, outside any lock.
 */
#ifndef FOUND_ENGINE_TIMER_H
#define FOUND_ENGINE_TIMER_H

#include <stdint.h>

typedef void (*timer_fn)(void *ctx);

/* Run fn(ctx) after delay_ns; 0 or 4100 when the thread cannot start (then
 * fn is run at once in this thread). */
int timer_after(int64_t delay_ns, timer_fn fn, void *ctx);

#endif
