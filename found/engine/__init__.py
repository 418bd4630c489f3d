"""The embedded engine bundled with found: a libfdb_c look-alike over LMDB.

Other FoundationDB bindings can use it too: load ``library_path()`` instead
of the system libfdb_c (its SONAME is ``libfdb_c.so``).  From a shell::

    python -m found.engine          # prints the library's path

For example, the official Python binding::

    import ctypes, found.engine
    ctypes.CDLL(found.engine.library_path(), mode=ctypes.RTLD_GLOBAL)
    import fdb; fdb.api_version(730)
"""

import os
import sys

__all__ = ["library_path", "default_directory"]

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # found/


def library_path() -> str:
    """Absolute path of the bundled engine library (found/_lib/libfdb_c.so)."""
    path = os.path.join(_PACKAGE, "_lib", "libfdb_c.so")
    if not os.path.exists(path):
        raise FileNotFoundError(
            "the embedded engine is not built: %s is missing (run `FOUND_BUILD=engine python3 setup.py "
            "build_ext --inplace` or `pip install .`)" % path
        )
    return path


def default_directory() -> str:
    """The data directory the engine uses when opened with no cluster file and no $FDB_CLUSTER_FILE."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "found", "engine")


def main() -> int:
    """``python -m found.engine``: print the engine library's path."""
    try:
        print(library_path())
    except FileNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0
