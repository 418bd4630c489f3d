"""Questions for the loaded library: its version and FoundationDB's error predicates."""

from found import _library
from found._fdb import ffi, lib

__all__ = ["get_client_version", "error_predicate"]


def get_client_version() -> str:
    """The version string of the FoundationDB client library in use.

    Before the first open() this loads the library the default rule picks.
    """
    _library.ensure_any_loaded()
    return ffi.string(lib.fdb_get_client_version()).decode("utf-8", "replace")


def error_predicate(predicate: int, code: int) -> bool:
    """Whether error ``code`` matches ``predicate`` (an ERROR_PREDICATE_* constant).

    Before the first open() this loads the library the default rule picks.
    """
    for name, value in (("predicate", predicate), ("code", code)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError("%s must be int, not %s" % (name, type(value).__name__))
    _library.ensure_any_loaded()
    return bool(lib.fdb_error_predicate(predicate, code))
