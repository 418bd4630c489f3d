"""Opening and closing a database."""

import io
import logging
import os
from typing import Any, List, Optional, Tuple, Union

from found import _library, _network
from found._errors import FoundException, InterfaceError
from found._fdb import ffi, lib
from found._hooks import Hooks, make_hooks

__all__ = ["Database", "open", "database_set_option"]

PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
OptionValue = Union[bytes, str, int, None]  # checked against the option's declared parameter type

_destroy_database = lib.fdb_database_destroy
_log = logging.getLogger("found")


class Database:
    """A handle on a FoundationDB database (a cluster or an embedded engine directory).

    ``hooks`` holds the lifecycle hooks fired by transactional() and transaction().
    """

    __slots__ = ("pointer", "hooks", "cluster_file", "library", "_spare", "__weakref__")

    pointer: Any  # the C FDBDatabase * (a CFFI cdata), None once closed
    hooks: Hooks
    cluster_file: Optional[str]
    library: Tuple[str, str]
    _spare: List[Any]

    def __init__(self, pointer: Any, cluster_file: Optional[str], library: Tuple[str, str]) -> None:
        self.pointer = pointer
        self.hooks = make_hooks()
        self.cluster_file = cluster_file
        self.library = library
        # Transactions transactional() finished with and reset, for reuse (see _transaction.recycle).
        self._spare = []

    def __del__(self) -> None:
        pointer = getattr(self, "pointer", None)
        if pointer is not None:
            self.pointer = None
            self._spare.clear()  # their own __del__ destroys them, before the database
            _destroy_database(pointer)

    def __repr__(self) -> str:
        return "<found.Database %s via %s library %s>" % (self.cluster_file or "(default)", *self.library)

    def close(self) -> None:
        """Release the database handle now rather than when it is garbage collected.

        Transactions already made keep working until they end (the library
        keeps the database alive for them); new ones (make_transaction,
        transactional, transaction) raise found.InterfaceError.  Closing
        twice is harmless.
        """
        pointer = self.pointer
        if pointer is None:
            return
        self.pointer = None
        self._spare.clear()  # their own __del__ destroys them, before the database
        self.__class__ = _ClosedDatabase
        _destroy_database(pointer)

    async def __aenter__(self) -> "Database":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()


class _ClosedDatabase(Database):
    """A Database after close(): same layout, refused by make_transaction and database_set_option."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<found.Database %s closed>" % (self.cluster_file or "(default)")


def check_database(db: object) -> None:
    """TypeError unless ``db`` is a found.Database; InterfaceError if it is closed."""
    if isinstance(db, _ClosedDatabase):
        raise InterfaceError("this database is closed (Database.close() or the end of `async with`)")
    if not isinstance(db, Database):
        raise TypeError("db must be a found.Database (from found.open()), not %s" % type(db).__name__)


async def open(cluster_file: Optional[PathLike] = None, *, library: Optional[PathLike] = None) -> Database:
    """Open the database named by ``cluster_file`` and return a Database.

    Without ``cluster_file`` FoundationDB's default applies
    ($FDB_CLUSTER_FILE, then /etc/foundationdb/fdb.cluster).  A real cluster
    file connects to that cluster through the system libfdb_c; anything else —
    a directory, a path that does not exist yet, a file holding
    ``embedded:<dir>`` — is served by the embedded engine.  ``library``
    (or $FOUND_LIBRARY) forces the choice: a path to a libfdb_c, or "embedded".

    Where the data goes: with no cluster file at all, the embedded engine
    keeps it in ``$XDG_DATA_HOME/found/engine`` (by default
    ``~/.local/share/found/engine``; ``found.engine.default_directory()``
    names it); with a directory or new path, in that directory.  Each open
    logs one INFO line on the ``found`` logger naming the library and the
    data directory or cluster file.

    ``db.close()`` releases the handle; ``async with await found.open(...) as
    db:`` closes it at the end of the block.
    """
    _network.check_process()
    if cluster_file is not None and not isinstance(cluster_file, (str, bytes, os.PathLike)):
        raise TypeError(
            "cluster_file must be a path (str, bytes or os.PathLike) or None, not %s" % type(cluster_file).__name__
        )
    if cluster_file is not None and b"\0" in os.fsencode(cluster_file):
        # C would see the path cut at the NUL and open another one.
        raise ValueError("cluster_file must not contain a NUL byte: %r" % (cluster_file,))
    if library is not None and not isinstance(library, (str, bytes, os.PathLike)):
        raise TypeError('library must be a path or "embedded", not %s' % type(library).__name__)
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
    db = Database(out[0], os.fsdecode(cluster_file) if cluster_file is not None else None, chosen)
    _log.info("found: opened %s with the %s library %s", _where(cluster_file, chosen[0]), *chosen)
    return db


def _where(cluster_file: Optional[PathLike], kind: str) -> str:
    """What an open database is, for the log: the engine's data directory or the cluster file."""
    path = os.fsdecode(cluster_file) if cluster_file is not None else os.environ.get("FDB_CLUSTER_FILE") or None
    if kind != _library.EMBEDDED:
        return "the cluster of %s" % (path or _library.DEFAULT_CLUSTER_FILE)
    if path is None:
        from found import engine

        return "data directory %s" % engine.default_directory()
    path = os.path.abspath(path)
    if os.path.isfile(path):  # a file holding embedded:<dir>, <dir> relative to the file's directory
        try:
            with io.open(path, "rb") as f:  # open() here is found.open
                text = f.read(65536).decode("utf-8", "replace").strip()
        except OSError:
            return "data directory named by %s" % path
        if text.startswith("embedded:"):
            path = os.path.join(os.path.dirname(path), text[len("embedded:") :].strip())
    return "data directory %s" % os.path.normpath(path)


def _make_data_directory(cluster_file: Optional[PathLike]) -> None:
    # The engine, like FoundationDB, answers 1515 for a path that does not
    # exist; found.open makes the directory of a new embedded database (not
    # for a missing "*.cluster" file). Failing that, the engine says why.
    path = os.fsdecode(cluster_file) if cluster_file else ""
    if path and not os.path.exists(path) and not path.endswith(".cluster"):
        try:
            os.makedirs(path, exist_ok=True)
        except OSError:
            pass


def _open_error(code: int, cluster_file: Optional[PathLike]) -> FoundException:
    exc = FoundException(code)
    detail = _library.engine_error_detail()
    where = os.fsdecode(cluster_file) if cluster_file is not None else "the default cluster file"
    exc.message = "%s: %s" % (exc.message, detail or where)
    return exc


def database_set_option(db: Database, option: int, value: OptionValue = None) -> None:
    """Set a database option (an ``FDB_DB_OPTION_*`` constant); ``value`` bytes (int accepted) or None."""
    if type(db) is not Database:
        check_database(db)
    if not isinstance(option, int):
        raise TypeError("option must be an int (an FDB_DB_OPTION_* constant), not %s" % type(option).__name__)
    data, size = _network.option_value(value, "DatabaseOption", option)
    code = lib.fdb_database_set_option(db.pointer, option, data, size)
    if code:
        raise FoundException(code)


def _after_fork() -> None:
    global _destroy_database
    _destroy_database = _network.ignore


_network.at_fork_in_child(_after_fork)
