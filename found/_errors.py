"""found's exceptions: FoundationDB errors carry FoundationDB's code and message."""
from typing import Optional

from found._codes import ERRORS

__all__ = ["BaseFoundException", "FoundException", "LibraryError", "ForkError", "InterfaceError"]

# Errors after which a commit may or may not have happened (FoundationDB's
# "maybe committed" predicate); kept here so an exception can say so without
# a library loaded.
_MAYBE_COMMITTED = frozenset((1021, 1039))


class BaseFoundException(Exception):
    """All found exceptions inherit this class."""


class FoundException(BaseFoundException):
    """An error reported by the FoundationDB client library or cluster.

    ``code`` is FoundationDB's numeric error code, ``message`` its text;
    ``maybe_committed`` is true when the transaction may have been committed
    anyway (commit_unknown_result).
    """

    def __init__(self, code: int, message: Optional[str] = None) -> None:
        if message is None:
            message = error_message(code)
        super().__init__(code, message)
        self.code: int = code
        self.message: str = message
        self.maybe_committed: bool = code in _MAYBE_COMMITTED

    @property
    def name(self) -> str:
        """FoundationDB's name for the error, e.g. ``not_committed``."""
        entry = ERRORS.get(self.code)
        return entry[0] if entry else "unknown_error"

    def __str__(self) -> str:
        return "%s (%d)" % (self.message, self.code)

    def __repr__(self) -> str:
        return "<FoundException %d %s: %s>" % (self.code, self.name, self.message)


class LibraryError(BaseFoundException):
    """The FoundationDB library cannot be chosen or loaded as configured."""


class ForkError(BaseFoundException):
    """found was used in a child process after os.fork(); open the database again in a fresh process."""


class InterfaceError(BaseFoundException):
    """Misuse of the API: a transaction used after its transactional()/transaction() is over,
    or a database used after close() (asyncpg raises its InterfaceError for the same)."""


def error_message(code: int) -> str:
    """FoundationDB's message for ``code`` (the text fdb_get_error returns)."""
    entry = ERRORS.get(code)
    if entry is not None:
        return entry[1]
    return "Unknown error"


def error_name(code: int) -> str:
    """FoundationDB's name for ``code`` (e.g. ``not_committed``), or ``unknown_error``."""
    entry = ERRORS.get(code)
    return entry[0] if entry else "unknown_error"
