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

#include "client.h"
#include "options.h"

enum { NET_NONE, NET_SETUP, NET_RUNNING, NET_STOPPED };

typedef struct hook {
    struct hook *next;
    void (*fn)(void *);
    void *param;
} hook;

static pthread_mutex_t _lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t _cond = PTHREAD_COND_INITIALIZER;
static int _state = NET_NONE;
static int _stop_requested;
static hook *_hooks;

FDB_EXPORT fdb_error_t fdb_network_set_option(int option, const uint8_t *value, int value_length) {
    if (!api_version_selected()) return FDB_ERR_API_VERSION_UNSET;
    return network_option(option, value, value_length);
}

FDB_EXPORT fdb_error_t fdb_setup_network(void) {
    if (!api_version_selected()) return FDB_ERR_API_VERSION_UNSET;
    pthread_mutex_lock(&_lock);
    int err = _state == NET_NONE ? 0 : FDB_ERR_NETWORK_ALREADY_SETUP;
    if (!err) _state = NET_SETUP;
    pthread_mutex_unlock(&_lock);
    return err;
}

FDB_EXPORT fdb_error_t fdb_run_network(void) {
    pthread_mutex_lock(&_lock);
    int err = 0;
    if (_state == NET_NONE) err = FDB_ERR_NETWORK_NOT_SETUP;
    else if (_state == NET_RUNNING) err = FDB_ERR_NETWORK_ALREADY_SETUP;
    else if (_state == NET_STOPPED && !_stop_requested) err = FDB_ERR_NETWORK_CANNOT_BE_RESTARTED;
    if (err) {
        pthread_mutex_unlock(&_lock);
        return err;
    }
    if (!_stop_requested) {
        _state = NET_RUNNING;
        while (!_stop_requested) pthread_cond_wait(&_cond, &_lock);
    }
    _state = NET_STOPPED;
    hook *hooks = _hooks;
    _hooks = NULL;
    pthread_mutex_unlock(&_lock);
    while (hooks) {
        hook *next = hooks->next;
        hooks->fn(hooks->param);
        free(hooks);
        hooks = next;
    }
    /* Stopped for good: a second run is refused. */
    pthread_mutex_lock(&_lock);
    _stop_requested = 0;
    pthread_mutex_unlock(&_lock);
    return 0;
}

FDB_EXPORT fdb_error_t fdb_stop_network(void) {
    pthread_mutex_lock(&_lock);
    int err = 0;
    if (_state == NET_NONE) err = FDB_ERR_NETWORK_NOT_SETUP;
    else if (_state == NET_STOPPED && !_stop_requested) err = 0;   /* already stopped */
    else {
        _stop_requested = 1;
        pthread_cond_broadcast(&_cond);
    }
    pthread_mutex_unlock(&_lock);
    return err;
}

FDB_EXPORT fdb_error_t fdb_add_network_thread_completion_hook(void (*fn)(void *), void *hook_parameter) {
    hook *h = malloc(sizeof *h);
    if (!h) return FDB_ERR_INTERNAL_ERROR;
    h->fn = fn;
    h->param = hook_parameter;
    pthread_mutex_lock(&_lock);
    h->next = _hooks;
    _hooks = h;
    pthread_mutex_unlock(&_lock);
    return 0;
}
