/*
 * location.c — the directory rule (see location.h and docs/engine.md).
 *
 *   NULL / ""                 → $FDB_CLUSTER_FILE if set, else
 *                               ${XDG_DATA_HOME:-$HOME/.local/share}/found/engine
 *   an existing directory     → that directory
 *   a missing path            → 1515 no_cluster_file_found, as FoundationDB
 *   a file "embedded:<dir>"   → <dir>, relative to the file's directory
 *   any other file            → 2104 connection_string_invalid: a real
 *                               FoundationDB cluster file; never pretended to
 *   a FIFO, socket or device  → 1513 file_not_readable (never opened: a FIFO
 *                               would block for ever)
 */
#include "client/location.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <unistd.h>

#include "util/base.h"

#define EMBEDDED_PREFIX  "embedded:"
#define CLUSTER_FILE_MAX 65536

static _Thread_local char location_detail[LOCATION_DETAIL_MAX];

void set_last_error_detail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(location_detail, sizeof location_detail, fmt, ap);
    va_end(ap);
}

/* Why the last fdb_create_database* call of this thread failed ("" if it
 * did not): names the file or directory at fault. */
FDB_EXPORT const char *found_engine_last_error_detail(void) { return location_detail; }

/* mkdir -p */
static int make_dirs(const char *dir) {
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) return ENAMETOOLONG;
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(path, 0777) != 0 && errno != EEXIST) return errno;
        *p = '/';
    }
    if (mkdir(path, 0777) != 0 && errno != EEXIST) return errno;
    struct stat st;
    if (stat(path, &st) != 0) return errno;
    return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}

static int use_dir(const char *dir, char *out, size_t out_len) {
    int e = make_dirs(dir);
    if (e) {
        set_last_error_detail("%s: cannot create the data directory: %s", dir, strerror(e));
        return FDB_ERR_FILE_NOT_WRITABLE;
    }
    if (snprintf(out, out_len, "%s", dir) >= (int)out_len) {
        set_last_error_detail("%s: path too long", dir);
        return FDB_ERR_CONNECTION_STRING_INVALID;
    }
    return 0;
}

static int default_dir(char *out, size_t out_len) {
    char dir[PATH_MAX];
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    int n;
    if (xdg && *xdg)
        n = snprintf(dir, sizeof dir, "%s/found/engine", xdg);
    else if (home && *home)
        n = snprintf(dir, sizeof dir, "%s/.local/share/found/engine", home);
    else {
        set_last_error_detail("no data directory: neither XDG_DATA_HOME nor HOME is set");
        return FDB_ERR_NO_CLUSTER_FILE_FOUND;
    }
    if (n >= (int)sizeof dir) {
        set_last_error_detail("default data directory path too long");
        return FDB_ERR_CONNECTION_STRING_INVALID;
    }
    return use_dir(dir, out, out_len);
}

/* "embedded:<dir>", with <dir> relative to `base` (a directory) when not
 * absolute. Surrounding whitespace is ignored. */
static int parse_embedded(const char *text, const char *base, const char *origin, char *out, size_t out_len) {
    while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r') text++;
    size_t plen = strlen(EMBEDDED_PREFIX);
    if (strncmp(text, EMBEDDED_PREFIX, plen) != 0) {
        set_last_error_detail("%s: not an embedded engine location (expected \"embedded:<dir>\"); "
                              "the found engine cannot connect to a FoundationDB cluster",
                              origin);
        return FDB_ERR_CONNECTION_STRING_INVALID;
    }
    char rel[PATH_MAX];
    if (snprintf(rel, sizeof rel, "%s", text + plen) >= (int)sizeof rel) {
        set_last_error_detail("%s: path too long", origin);
        return FDB_ERR_CONNECTION_STRING_INVALID;
    }
    size_t n = strlen(rel);
    while (n && (rel[n - 1] == ' ' || rel[n - 1] == '\t' || rel[n - 1] == '\n' || rel[n - 1] == '\r'))
        rel[--n] = 0;
    if (!n) {
        set_last_error_detail("%s: empty directory after \"embedded:\"", origin);
        return FDB_ERR_CONNECTION_STRING_INVALID;
    }
    char dir[PATH_MAX];
    int w = rel[0] == '/' || !base ? snprintf(dir, sizeof dir, "%s", rel)
                                   : snprintf(dir, sizeof dir, "%s/%s", base, rel);
    if (w >= (int)sizeof dir) {
        set_last_error_detail("%s: path too long", origin);
        return FDB_ERR_CONNECTION_STRING_INVALID;
    }
    return use_dir(dir, out, out_len);
}

/* What an odd file type is called in an error detail. */
static const char *location_kind(mode_t mode) {
    return S_ISFIFO(mode)   ? "a FIFO"
           : S_ISSOCK(mode) ? "a socket"
           : S_ISCHR(mode)  ? "a character device"
           : S_ISBLK(mode)  ? "a block device"
                            : "not a regular file";
}

static int odd_type(const char *path, mode_t mode) {
    set_last_error_detail("%s: neither a cluster file nor a data directory (%s)", path, location_kind(mode));
    return FDB_ERR_FILE_NOT_READABLE;
}

/* Opened without blocking (a FIFO would wait for a writer for ever, past
 * any timeout of the caller's) and read only when it is a regular file. */
static int from_file(const char *path, char *out, size_t out_len) {
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        set_last_error_detail("%s: cannot read: %s", path, strerror(errno));
        if (fd >= 0) close(fd);
        return FDB_ERR_FILE_NOT_READABLE;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return odd_type(path, st.st_mode);
    }
    FILE *fp = fdopen(fd, "r");
    if (!fp) {
        set_last_error_detail("%s: cannot read: %s", path, strerror(errno));
        close(fd);
        return FDB_ERR_FILE_NOT_READABLE;
    }
    char *text = malloc(CLUSTER_FILE_MAX + 1);
    if (!text) {
        fclose(fp);
        return FDB_ERR_INTERNAL_ERROR;
    }
    size_t n = fread(text, 1, CLUSTER_FILE_MAX, fp);
    fclose(fp);
    text[n] = 0;
    char base[PATH_MAX];
    snprintf(base, sizeof base, "%s", path);
    char *slash = strrchr(base, '/');
    if (slash)
        *(slash == base ? slash + 1 : slash) = 0;
    else
        snprintf(base, sizeof base, ".");
    int err = parse_embedded(text, base, path, out, out_len);
    free(text);
    return err;
}

int location_from_cluster_file(const char *path, char *out, size_t out_len) {
    if (!path || !*path) {
        const char *env = getenv("FDB_CLUSTER_FILE");
        if (env && *env) return location_from_cluster_file(env, out, out_len);
        return default_dir(out, out_len);
    }
    struct stat st;
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) return use_dir(path, out, out_len);
        if (!S_ISREG(st.st_mode)) return odd_type(path, st.st_mode);
        return from_file(path, out, out_len);
    }
    set_last_error_detail("%s: no such cluster file or data directory", path);
    return FDB_ERR_NO_CLUSTER_FILE_FOUND;
}

int location_from_connection_string(const char *conn, char *out, size_t out_len) {
    if (!conn) {
        set_last_error_detail("no connection string");
        return FDB_ERR_CONNECTION_STRING_INVALID;
    }
    return parse_embedded(conn, NULL, conn, out, out_len);
}
