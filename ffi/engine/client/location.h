/*
 * location.h — the directory rule: which data directory a cluster-file
 * path or connection string names (docs/engine.md, "Which directory").
 */
#ifndef FOUND_ENGINE_LOCATION_H
#define FOUND_ENGINE_LOCATION_H

#include <stddef.h>

/* Resolve fdb_create_database's argument to a data directory (an embedded
 * file's or the default one created if missing). Returns 0 or an FDB error code, with a detail recorded by
 * set_last_error_detail. */
int location_from_cluster_file(const char *path, char *dir, size_t dir_len);
/* Resolve a connection string ("embedded:<dir>"). */
int location_from_connection_string(const char *conn, char *dir, size_t dir_len);

/* Thread-local detail of the last create_database failure (kept here, with
 * the rule that finds most of them, so database.c depends on location and
 * not the other way round). */
#define LOCATION_DETAIL_MAX 1024
void set_last_error_detail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
