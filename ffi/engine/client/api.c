/* api.c — API version selection and client identification. */
#include <stdatomic.h>

#include "util/base.h"

static atomic_int api_version;

int api_version_selected(void) { return atomic_load(&api_version); }

FDB_EXPORT fdb_error_t fdb_select_api_version_impl(int runtime_version, int header_version) {
    if (runtime_version > header_version) return FDB_ERR_API_VERSION_INVALID;
    if (header_version > FOUND_API_VERSION || runtime_version < 13) return FDB_ERR_API_VERSION_NOT_SUPPORTED;
    int expected = 0;
    if (atomic_compare_exchange_strong(&api_version, &expected, runtime_version)) return 0;
    return expected == runtime_version ? 0 : FDB_ERR_API_VERSION_ALREADY_SET;
}

FDB_EXPORT int fdb_get_max_api_version(void) { return FOUND_API_VERSION; }

FDB_EXPORT const char *fdb_get_client_version(void) { return FOUND_CLIENT_VERSION; }

/* One protocol only: nothing to switch. */
FDB_EXPORT fdb_error_t fdb_use_future_protocol_version(void) { return 0; }
