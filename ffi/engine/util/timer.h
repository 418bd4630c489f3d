/*
 * timer.h — one background thread running delayed tasks (on_error backoff,
 * injected latency). Tasks run in deadline order, outside any lock.
 */
#ifndef FOUND_ENGINE_TIMER_H
#define FOUND_ENGINE_TIMER_H

#include <stdint.h>

typedef void (*timer_fn)(void *ctx);

/* Run fn(ctx) after delay_ns. Returns the task's id (never 0), or 0 when
 * the thread cannot start (then fn has run at once in this thread). */
uint64_t timer_after(int64_t delay_ns, timer_fn fn, void *ctx);
/* Drop a task that has not started: 1 if dropped (fn will never run), 0 if
 * it already ran or is running. */
int timer_cancel(uint64_t id);

#endif
