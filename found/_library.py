"""Which FoundationDB C library this process uses, and loading it.

Rule (see docs/driver.md, "Which library"):

1. an explicit setting wins: ``found.open(library=...)`` or the environment
   variable ``FOUND_LIBRARY`` — a path to a libfdb_c, or ``"embedded"``;
2. otherwise, when the cluster file (the ``open()`` argument, else
   ``$FDB_CLUSTER_FILE``, else ``/etc/foundationdb/fdb.cluster`` if it exists)
   is a real FoundationDB cluster file, the system libfdb_c — and if it cannot
   be loaded that is an error: a real cluster never silently falls back to
   the embedded engine;
3. otherwise the embedded engine bundled with found.

One library per process: the first choice stays; a conflicting later one
raises LibraryError.
"""

import logging
import os
import re
import threading
from typing import Optional, Tuple

from found._codes import FDB_ERR_API_VERSION_ALREADY_SET, FDB_ERR_API_VERSION_NOT_SUPPORTED
from found._errors import FoundException, LibraryError
from found._fdb import ffi, lib

__all__ = ["library", "ensure_loaded", "resolve", "is_cluster_file", "API_VERSION"]

API_VERSION = 730
EMBEDDED = "embedded"
SYSTEM = "system"
DEFAULT_CLUSTER_FILE = "/etc/foundationdb/fdb.cluster"

_log = logging.getLogger("found")
_lock = threading.Lock()
_loaded: Optional[Tuple[str, str]] = None

# description:ID@address[,address...] — FoundationDB's connection string.
_CONNECTION_STRING = re.compile(r"^[A-Za-z0-9_]+:[A-Za-z0-9]+@\S+$")


def library() -> Optional[Tuple[str, str]]:
    """The (kind, path) of the loaded library — kind is "embedded" or "system" — or None before the first open()."""
    return _loaded


def is_cluster_file(path) -> bool:
    """True when ``path`` is a file holding a real FoundationDB connection string."""
    try:
        if not os.path.isfile(path):
            return False
        with open(path, "rb") as f:
            text = f.read(65536).decode("utf-8", "replace")
    except OSError:
        return False
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        return bool(_CONNECTION_STRING.match(line))
    return False


def _cluster_file_in_effect(cluster_file) -> Optional[str]:
    if cluster_file is not None:
        return os.fsdecode(cluster_file)
    from_env = os.environ.get("FDB_CLUSTER_FILE")
    if from_env:
        return from_env
    if os.path.exists(DEFAULT_CLUSTER_FILE):
        return DEFAULT_CLUSTER_FILE
    return None


def _embedded_path() -> str:
    from found import engine

    return engine.library_path()


def _is_bundled_engine(path: str) -> bool:
    try:
        return os.path.samefile(path, _embedded_path())
    except (OSError, FileNotFoundError):
        return False


def _system_path() -> str:
    import ctypes.util  # only for a real cluster: it imports tempfile, shutil, random ...

    return ctypes.util.find_library("fdb_c") or "libfdb_c.so"


def resolve(cluster_file=None, library=None) -> Tuple[str, str]:
    """Apply the choice rule without loading anything: (kind, path)."""
    explicit = library if library is not None else os.environ.get("FOUND_LIBRARY") or None
    if explicit is not None:
        explicit = os.fsdecode(explicit)
        if explicit == EMBEDDED:
            return EMBEDDED, _embedded_path()
        if _is_bundled_engine(explicit):
            return EMBEDDED, _embedded_path()
        return SYSTEM, explicit
    in_effect = _cluster_file_in_effect(cluster_file)
    if in_effect is not None and is_cluster_file(in_effect):
        return SYSTEM, _system_path()
    return EMBEDDED, _embedded_path()


def ensure_loaded(cluster_file=None, library=None) -> Tuple[str, str]:
    """Load the library the rule picks (once per process) and select API version 730."""
    global _loaded
    chosen = resolve(cluster_file, library)
    with _lock:
        if _loaded is not None:
            if chosen != _loaded:
                raise LibraryError(
                    "this process already uses the %s library %s; cannot switch to the %s library %s "
                    "(one FoundationDB library per process)" % (_loaded + chosen)
                )
            return _loaded
        _load(*chosen, cluster_file=_cluster_file_in_effect(cluster_file))
        _loaded = chosen
    _log.debug("found: loaded the %s FoundationDB library %s", *chosen)  # open() logs at INFO
    return chosen


def _load(kind: str, path: str, cluster_file: Optional[str]) -> None:
    message = lib.found_load_library(os.fsencode(path))
    if message != ffi.NULL:
        reason = ffi.string(message).decode("utf-8", "replace")
        if kind == SYSTEM and cluster_file is not None and is_cluster_file(cluster_file):
            raise LibraryError(
                "%s names a real FoundationDB cluster, but the FoundationDB client library cannot be "
                "loaded (%s). Install FoundationDB's client package (libfdb_c 7.3), or set FOUND_LIBRARY "
                "to its path; found never falls back to the embedded engine for a real cluster."
                % (cluster_file, reason)
            )
        raise LibraryError(reason)
    if kind == SYSTEM and cluster_file is not None and is_cluster_file(cluster_file) and _is_found_engine():
        lib.found_unload_library()
        raise LibraryError(
            "%s names a real FoundationDB cluster, but the libfdb_c found on the library path (%s) is "
            "found's embedded engine, which cannot connect to a cluster. Install FoundationDB's client "
            "package (libfdb_c 7.3), or set FOUND_LIBRARY to its path." % (cluster_file, path)
        )
    code = lib.fdb_select_api_version_impl(API_VERSION, API_VERSION)
    if code == FDB_ERR_API_VERSION_ALREADY_SET:  # another binding in this process (e.g. fdb) chose it
        _log.info("found: %s already had its API version selected in this process", path)
        code = 0
    if code != 0:
        if code == FDB_ERR_API_VERSION_NOT_SUPPORTED:
            raise LibraryError(
                "%s does not support FoundationDB API version %d (it supports up to %d)"
                % (path, API_VERSION, lib.fdb_get_max_api_version())
            )
        raise FoundException(code)


def engine_error_detail() -> str:
    """The engine's explanation of its last failed fdb_create_database on this thread ("" if none)."""
    symbol = lib.found_optional_symbol(b"found_engine_last_error_detail")
    if symbol == ffi.NULL:
        return ""
    detail = ffi.cast("const char *(*)(void)", symbol)()
    return ffi.string(detail).decode("utf-8", "replace") if detail != ffi.NULL else ""


def engine_database_error(database) -> int:
    """The cluster-file error the engine deferred to a database's first operation (0: none, or not the engine)."""
    symbol = lib.found_optional_symbol(b"found_engine_database_error")
    if symbol == ffi.NULL:
        return 0
    return ffi.cast("int (*)(void *)", symbol)(database)


def _is_found_engine() -> bool:
    return lib.found_optional_symbol(b"found_engine_last_error_detail") != ffi.NULL


def ensure_any_loaded() -> None:
    """Load the default library if nothing is loaded yet (for calls made before open())."""
    if _loaded is None:
        ensure_loaded()
