/* timer.c — see timer.h. */
#include "util/timer.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "util/base.h"

typedef struct task {
    struct task *next;
    uint64_t id;
    int64_t due;
    timer_fn fn;
    void *ctx;
} task;

static pthread_mutex_t timer_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t timer_cond;
static task *tasks; /* sorted by due */
static uint64_t next_id = 1;
static int started;

int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t coarse_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *run(void *arg) {
    (void)arg;
    pthread_mutex_lock(&timer_lock);
    for (;;) {
        if (!tasks) {
            pthread_cond_wait(&timer_cond, &timer_lock);
            continue;
        }
        int64_t now = now_ns();
        if (tasks->due > now) {
            struct timespec ts = {
                .tv_sec = (time_t)(tasks->due / 1000000000LL),
                .tv_nsec = (long)(tasks->due % 1000000000LL),
            };
            pthread_cond_timedwait(&timer_cond, &timer_lock, &ts);
            continue;
        }
        task *t = tasks;
        tasks = t->next;
        pthread_mutex_unlock(&timer_lock);
        t->fn(t->ctx);
        free(t);
        pthread_mutex_lock(&timer_lock);
    }
    return NULL;
}

/* A forked child has no timer thread: start a fresh one on first use. */
static void after_fork_child(void) {
    pthread_mutex_init(&timer_lock, NULL);
    tasks = NULL;
    started = 0;
}

static int timer_start(void) {
    static int atfork_registered;
    if (!atfork_registered) {
        pthread_atfork(NULL, NULL, after_fork_child);
        atfork_registered = 1;
    }
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&timer_cond, &attr);
    pthread_condattr_destroy(&attr);
    pthread_t th;
    pthread_attr_t ta;
    pthread_attr_init(&ta);
    pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&th, &ta, run, NULL);
    pthread_attr_destroy(&ta);
    return rc;
}

uint64_t timer_after(int64_t delay_ns, timer_fn fn, void *ctx) {
    task *t = malloc(sizeof(task));
    pthread_mutex_lock(&timer_lock);
    if (!started && t) {
        if (timer_start() == 0) started = 1;
    }
    if (!t || !started) {
        pthread_mutex_unlock(&timer_lock);
        free(t);
        fn(ctx);
        return 0;
    }
    uint64_t id = t->id = next_id++;
    int64_t now = now_ns();
    /* Saturate: a deadline computed a moment ago as INT64_MAX ("never")
     * arrives here as INT64_MAX - (an earlier now), which would wrap. */
    t->due = delay_ns <= 0 ? now : delay_ns > INT64_MAX - now ? INT64_MAX : now + delay_ns;
    t->fn = fn;
    t->ctx = ctx;
    task **p = &tasks;
    while (*p && (*p)->due <= t->due) p = &(*p)->next;
    t->next = *p;
    *p = t;
    pthread_cond_signal(&timer_cond);
    pthread_mutex_unlock(&timer_lock);
    return id;
}

int timer_cancel(uint64_t id) {
    pthread_mutex_lock(&timer_lock);
    task *found = NULL;
    for (task **p = &tasks; *p; p = &(*p)->next) {
        if ((*p)->id == id) {
            found = *p;
            *p = found->next;
            break;
        }
    }
    pthread_mutex_unlock(&timer_lock);
    free(found);
    return found != NULL;
}
