/* Loading the FoundationDB library: dlopen() it and fill the function table
 * with dlsym(), or refuse it whole when it lacks a function of the API. */
#include "api_table.h"
#include "driver.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

long found_futures_alive;
static void *found_handle;
static char found_message[1024];

long found_futures_alive_count(void) { return __atomic_load_n(&found_futures_alive, __ATOMIC_RELAXED); }

int found_library_loaded(void) { return found_handle != NULL; }

/* Only before any API call: the library is then refused, not used. */
void found_unload_library(void) {
    if (!found_handle) return;
    dlclose(found_handle);
    found_handle = NULL;
    found_get_into = NULL;
    found_api_install(NULL);
}

void *found_optional_symbol(const char *name) { return found_handle ? dlsym(found_handle, name) : NULL; }

/* Returns NULL on success, else a message naming what is wrong. */
const char *found_load_library(const char *path) {
    if (found_handle) return "a FoundationDB library is already loaded in this process";
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        snprintf(found_message, sizeof found_message, "cannot load %s: %s", path, dlerror());
        return found_message;
    }
    void **symbols = calloc((size_t)found_api_count, sizeof *symbols);
    if (!symbols) {
        dlclose(handle);
        return "cannot load the FoundationDB library: out of memory";
    }
    for (int i = 0; i < found_api_count; i++) {
        symbols[i] = dlsym(handle, found_api_names[i]);
        if (!symbols[i]) {
            snprintf(found_message, sizeof found_message, "%s does not export %s", path, found_api_names[i]);
            free(symbols);
            dlclose(handle);
            return found_message;
        }
    }
    found_api_install(symbols);
    free(symbols);
    found_get_into = (found_engine_get_into_function)dlsym(handle, "found_engine_get_into");
    found_handle = handle;
    return NULL;
}
