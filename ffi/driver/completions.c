/* Completion ports: C futures that become ready are queued here, in C, on
 * whatever thread completes them (the network thread, the engine's commit
 * thread), without the GIL; the event loop that waits for them is woken
 * through one file descriptor, written only when its queue goes from empty to
 * non-empty, and takes the whole queue in one call (found/_futures.py).
 *
 * One port per event loop. A port is freed when its owner has closed it and
 * no future registered on it is still pending: a future that completes after
 * the close is destroyed here, as nobody will read it.
 *
 * A commit sent with found_port_send_commit belongs to the port: its error
 * code is read and the future destroyed when it is taken, so the commit path
 * makes no C call per commit after sending it. */
#include "driver.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

typedef struct found_node {
    struct found_node *next;
    struct found_port *port;
    FDBFuture *future;
    intptr_t token;
    int owned; /* a commit the port reads and destroys when taken */
} found_node;

struct found_port {
    pthread_mutex_t lock;
    found_node *head, *tail; /* ready, not yet taken */
    /* the owner (until closed) + one per registered future; atomic, so that
     * registering a future (once per commit) takes no lock the completing
     * thread may hold; it drops to 0 exactly once, and whoever takes it
     * there frees the port */
    atomic_long refs;
    int closed;
    int read_fd, write_fd; /* the same eventfd on Linux, a pipe elsewhere */
};

static int found_wake_fds(int fds[2]) {
#ifdef __linux__
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    fds[0] = fds[1] = fd;
    return fd < 0 ? -1 : 0;
#else
    if (pipe(fds) < 0) return -1;
    for (int i = 0; i < 2; i++) {
        if (fcntl(fds[i], F_SETFL, O_NONBLOCK) < 0 || fcntl(fds[i], F_SETFD, FD_CLOEXEC) < 0) {
            close(fds[0]);
            close(fds[1]);
            return -1;
        }
    }
    return 0;
#endif
}

found_port *found_port_open(void) {
    found_port *port = calloc(1, sizeof *port);
    if (!port) return NULL;
    int fds[2];
    if (found_wake_fds(fds) < 0 || pthread_mutex_init(&port->lock, NULL) != 0) {
        free(port);
        return NULL;
    }
    port->read_fd = fds[0];
    port->write_fd = fds[1];
    atomic_init(&port->refs, 1);
    return port;
}

int found_port_fd(found_port *port) { return port->read_fd; }

static void found_port_free(found_port *port) {
    close(port->read_fd);
    if (port->write_fd != port->read_fd) close(port->write_fd);
    pthread_mutex_destroy(&port->lock);
    free(port);
}

static void found_wake(found_port *port) {
    uint64_t one = 1;
    ssize_t n;
    do n = write(port->write_fd, &one, sizeof one);
    while (n < 0 && errno == EINTR);
    /* EAGAIN: already readable (a full pipe or counter), which is all we need. */
}

static void found_unwake(found_port *port) {
    uint64_t buffer[16];
    ssize_t n;
    do n = read(port->read_fd, buffer, sizeof buffer);
    while (n == (ssize_t)sizeof buffer || (n < 0 && errno == EINTR));
}

/* The C callback given to fdb_future_set_callback: runs on the completing
 * thread (or at once, on the caller's, when the future is already ready). */
static void found_port_ready(FDBFuture *future, void *parameter) {
    (void)future;
    found_node *node = parameter;
    found_port *port = node->port;
    int free_port = 0;
    pthread_mutex_lock(&port->lock);
    if (port->closed) {
        fdb_future_destroy(node->future);
        free(node);
        free_port = atomic_fetch_sub(&port->refs, 1) == 1;
    } else {
        node->next = NULL;
        if (port->tail)
            port->tail->next = node;
        else
            port->head = node;
        int was_empty = port->tail == NULL;
        port->tail = node;
        if (was_empty) found_wake(port);
    }
    pthread_mutex_unlock(&port->lock);
    if (free_port) found_port_free(port);
}

static int found_port_register(found_port *port, FDBFuture *future, intptr_t token, int owned) {
    found_node *node = malloc(sizeof *node);
    if (!node) return FOUND_INTERNAL_ERROR;
    node->next = NULL;
    node->port = port;
    node->future = future;
    node->token = token;
    node->owned = owned;
    atomic_fetch_add(&port->refs, 1);
    fdb_error_t err = fdb_future_set_callback(future, found_port_ready, node);
    if (err) {
        atomic_fetch_sub(&port->refs, 1); /* the owner's reference keeps it above 0 */
        free(node);
    }
    return err;
}

int found_port_watch(found_port *port, FDBFuture *future, intptr_t token) {
    return found_port_register(port, future, token, 0);
}

found_int found_port_commit(found_port *port, FDBTransaction *tr, intptr_t token) {
    found_int out = found_commit(tr);
    if (out.status != FOUND_PENDING) return out;
    int err = found_port_watch(port, out.future, token);
    if (err) { /* nobody will read it */
        fdb_future_destroy(out.future);
        out.status = FOUND_FAILED;
        out.error = err;
        out.future = NULL;
    }
    return out;
}

int found_port_send_commit(found_port *port, FDBTransaction *tr, intptr_t token) {
    found_int out = found_commit(tr);
    if (out.status == FOUND_READY) return 0;
    if (out.status == FOUND_FAILED) return out.error;
    int err = found_port_register(port, out.future, token, 1);
    if (err) fdb_future_destroy(out.future); /* nobody will read it */
    return err ? err : FOUND_COMMIT_SENT;
}

int found_port_take(found_port *port, intptr_t *pairs, int max) {
    int n = 0;
    found_node *taken = NULL, **last = &taken;
    pthread_mutex_lock(&port->lock);
    while (n < max && port->head) {
        found_node *node = port->head;
        port->head = node->next;
        *last = node;
        last = &node->next;
        n++;
    }
    *last = NULL;
    if (!port->head) {
        port->tail = NULL;
        found_unwake(port);
    }
    pthread_mutex_unlock(&port->lock);
    atomic_fetch_sub(&port->refs, n); /* the owner's reference keeps it above 0 */
    /* outside the lock: destroying a future may take the engine's locks,
     * which a completing thread holds while it calls found_port_ready */
    int i = 0;
    for (found_node *node = taken, *next; node; node = next) {
        next = node->next;
        pairs[i++] = node->token;
        if (node->owned) {
            pairs[i++] = fdb_future_get_error(node->future);
            fdb_future_destroy(node->future);
        } else {
            pairs[i++] = 0;
        }
        free(node);
    }
    return n;
}

void found_port_close(found_port *port) {
    long dropped = 0;
    pthread_mutex_lock(&port->lock);
    port->closed = 1;
    while (port->head) {
        found_node *node = port->head;
        port->head = node->next;
        fdb_future_destroy(node->future);
        free(node);
        dropped++;
    }
    port->tail = NULL;
    /* under the lock, like found_port_ready's: whoever reaches 0 has let go
     * of the lock only after the other's decrement */
    int free_port = atomic_fetch_sub(&port->refs, dropped + 1) == dropped + 1;
    pthread_mutex_unlock(&port->lock);
    if (free_port) found_port_free(port);
}
