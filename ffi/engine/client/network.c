/*
 * network.c — fdb_setup_network / fdb_run_network / fdb_stop_network.
 *
 * The engine needs no network thread: reads complete in the caller's
 * thread and commits on the store's commit thread. fdb_run_network still
 * blocks its caller until fdb_stop_network, then runs the completion hooks,
 * so bindings that dedicate a thread to it behave as with FoundationDB.
 */
#include <pthread.h>
#include <stdlib.h>

#include "util/base.h"
#include "client/options.h"

enum { NET_NONE, NET_SETUP, NET_RUNNING, NET_STOPPED };

typedef struct hook {
    struct hook *next;
    void (*fn)(void *);
    void *param;
} hook;

static pthread_mutex_t network_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t network_cond = PTHREAD_COND_INITIALIZER;
static int network_state = NET_NONE;
static int stop_requested;
static hook *network_hooks;

FDB_EXPORT fdb_error_t fdb_network_set_option(int option, const uint8_t *value, int value_length) {
    if (!api_version_selected()) return FDB_ERR_API_VERSION_UNSET;
    return network_option(option, value, value_length);
}

FDB_EXPORT fdb_error_t fdb_setup_network(void) {
    if (!api_version_selected()) return FDB_ERR_API_VERSION_UNSET;
    pthread_mutex_lock(&network_lock);
    int err = network_state == NET_NONE ? 0 : FDB_ERR_NETWORK_ALREADY_SETUP;
    if (!err) network_state = NET_SETUP;
    pthread_mutex_unlock(&network_lock);
    return err;
}

FDB_EXPORT fdb_error_t fdb_run_network(void) {
    pthread_mutex_lock(&network_lock);
    int err = 0;
    if (network_state == NET_NONE)
        err = FDB_ERR_NETWORK_NOT_SETUP;
    else if (network_state == NET_RUNNING)
        err = FDB_ERR_NETWORK_ALREADY_SETUP;
    else if (network_state == NET_STOPPED && !stop_requested)
        err = FDB_ERR_NETWORK_CANNOT_BE_RESTARTED;
    if (err) {
        pthread_mutex_unlock(&network_lock);
        return err;
    }
    if (!stop_requested) {
        network_state = NET_RUNNING;
        while (!stop_requested) pthread_cond_wait(&network_cond, &network_lock);
    }
    network_state = NET_STOPPED;
    hook *hooks = network_hooks;
    network_hooks = NULL;
    pthread_mutex_unlock(&network_lock);
    while (hooks) {
        hook *next = hooks->next;
        hooks->fn(hooks->param);
        free(hooks);
        hooks = next;
    }
    /* Stopped for good: a second run is refused. */
    pthread_mutex_lock(&network_lock);
    stop_requested = 0;
    pthread_mutex_unlock(&network_lock);
    return 0;
}

FDB_EXPORT fdb_error_t fdb_stop_network(void) {
    pthread_mutex_lock(&network_lock);
    int err = 0;
    if (network_state == NET_NONE)
        err = FDB_ERR_NETWORK_NOT_SETUP;
    else if (network_state == NET_STOPPED && !stop_requested)
        err = 0; /* already stopped */
    else {
        stop_requested = 1;
        pthread_cond_broadcast(&network_cond);
    }
    pthread_mutex_unlock(&network_lock);
    return err;
}

FDB_EXPORT fdb_error_t fdb_add_network_thread_completion_hook(void (*fn)(void *), void *hook_parameter) {
    hook *h = malloc(sizeof *h);
    if (!h) return FDB_ERR_INTERNAL_ERROR;
    h->fn = fn;
    h->param = hook_parameter;
    pthread_mutex_lock(&network_lock);
    h->next = network_hooks;
    network_hooks = h;
    pthread_mutex_unlock(&network_lock);
    return 0;
}
