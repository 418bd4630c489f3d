"""Opening a database."""
import os
from typing import Optional, Tuple, Union

from found import _library, _network
from found._errors import FoundException
from found._fdb import ffi, lib
from found._hooks import Hooks, make_hooks

__all__ = ["Database", "open", "database_set_option"]

PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]

_destroy_database = lib.fdb_database_destroy


class Database:
    """A handle on a FoundationDB database (a cluster or an embedded engine directory).

    ``hooks`` holds the lifecycle hooks fired by transactional() and transaction().
    """

    __slots__ = ("pointer", "hooks", "cluster_file", "library", "_spare", "__weakref__")

    def __init__(self, pointer, cluster_file: Optional[str], library: Tuple[str, str]) -> None:
        self.pointer = pointer
        self.hooks: Hooks = make_hooks()
        self.cluster_file = cluster_file
        self.library = library
        # Transactions transactional() finished with and reset, for reuse (see _transaction.recycle).
        self._spare: list = []

    def __del__(self) -> None:
        pointer = getattr(self, "pointer", None)
        if pointer is not None:
            self.pointer = None
            self._spare.clear()  # their own __del__ destroys them, before the database
            _destroy_database(pointer)

    def __repr__(self) -> str:
        return "<found.Database %s via %s library %s>" % (self.cluster_file or "(default)", *self.library)


async def open(cluster_file: Optional[PathLike] = None, *, library: Optional[PathLike] = None) -> Database:
    """Open the database named by ``cluster_file`` and return a Database.

    Without ``cluster_file`` FoundationDB's default applies
    ($FDB_CLUSTER_FILE, then /etc/foundationdb/fdb.cluster).  A real cluster
    file connects to that cluster through the system libfdb_c; anything else —
    a directory, a path that does not exist yet, a file holding
    ``embedded:<dir>`` — is served by the embedded engine.  ``library``
    (or $FOUND_LIBRARY) forces the choice: a path to a libfdb_c, or "embedded".
    """
    _network.check_process()
    if cluster_file is not None and not isinstance(cluster_file, (str, bytes, os.PathLike)):
        raise TypeError("cluster_file must be a path (str, bytes or os.PathLike) or None, not %s"
                        % type(cluster_file).__name__)
    if library is not None and not isinstance(library, (str, bytes, os.PathLike)):
        raise TypeError("library must be a path or \"embedded\", not %s" % type(library).__name__)
    chosen = _library.ensure_loaded(cluster_file, library)
    _network.start()
    if chosen[0] == _library.EMBEDDED:
        _make_data_directory(cluster_file if cluster_file is not None else os.environ.get("FDB_CLUSTER_FILE"))
    path = os.fsencode(cluster_file) if cluster_file is not None else ffi.NULL
    out = ffi.new("FDBDatabase **")
    code = lib.fdb_create_database(path, out)
    if not code:
        code = _library.engine_database_error(out[0])  # deferred by the engine, as FoundationDB does
        if code:
            _destroy_database(out[0])
    if code:
        raise _open_error(code, cluster_file)
    return Database(out[0], os.fsdecode(cluster_file) if cluster_file is not None else None, chosen)


def _make_data_directory(cluster_file) -> None:
    # The engine, like FoundationDB, answers 1515 for a path that does not
    # exist; found.open makes the directory of a new embedded database (not
    # for a missing "*.cluster" file). Failing that, the engine says why.
    path = os.fsdecode(cluster_file) if cluster_file else ""
    if path and not os.path.exists(path) and not path.endswith(".cluster"):
        try:
            os.makedirs(path, exist_ok=True)
        except OSError:
            pass


def _open_error(code: int, cluster_file) -> FoundException:
    exc = FoundException(code)
    detail = _library.engine_error_detail()
    where = os.fsdecode(cluster_file) if cluster_file is not None else "the default cluster file"
    exc.message = "%s: %s" % (exc.message, detail or where)
    return exc


def database_set_option(db: Database, option: int, value=None) -> None:
    """Set a database option (an ``FDB_DB_OPTION_*`` constant); ``value`` bytes (int accepted) or None."""
    if not isinstance(option, int):
        raise TypeError("option must be an int (an FDB_DB_OPTION_* constant), not %s" % type(option).__name__)
    data, size = _network.option_value(value)
    code = lib.fdb_database_set_option(db.pointer, option, data, size)
    if code:
        raise FoundException(code)


def _guard():
    _network.guard_after_fork(globals(), ("_destroy_database",), release=True)


_guard()
