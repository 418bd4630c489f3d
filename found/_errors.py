"""found's exceptions: FoundationDB errors carry FoundationDB's code and message."""

from typing import Optional

from found._codes import (
    ERRORS,
    FDB_ERR_CLUSTER_VERSION_CHANGED,
    FDB_ERR_COMMIT_UNKNOWN_RESULT,
    FDB_ERR_KEY_TOO_LARGE,
    FDB_ERR_NOT_COMMITTED,
    FDB_ERR_OPERATION_CANCELLED,
    FDB_ERR_TIMED_OUT,
    FDB_ERR_TRANSACTION_CANCELLED,
    FDB_ERR_TRANSACTION_TIMED_OUT,
    FDB_ERR_TRANSACTION_TOO_LARGE,
    FDB_ERR_TRANSACTION_TOO_OLD,
    FDB_ERR_VALUE_TOO_LARGE,
)

__all__ = [
    "BaseFoundException",
    "FoundException",
    "LibraryError",
    "ForkError",
    "InterfaceError",
    "NotCommittedError",
    "CommitUnknownResultError",
    "TransactionTooOldError",
    "TimedOutError",
    "TransactionCancelledError",
    "TooLargeError",
]

# Errors after which a commit may or may not have happened (FoundationDB's
# "maybe committed" predicate); kept here so an exception can say so without
# a library loaded.
_MAYBE_COMMITTED = frozenset((FDB_ERR_COMMIT_UNKNOWN_RESULT, FDB_ERR_CLUSTER_VERSION_CHANGED))


class BaseFoundException(Exception):
    """All found exceptions inherit this class."""


class FoundException(BaseFoundException):
    """An error reported by the FoundationDB client library or cluster.

    ``code`` is FoundationDB's numeric error code, ``message`` its text;
    ``maybe_committed`` is true when the transaction may have been committed
    anyway (commit_unknown_result).

    ``FoundException(code)`` makes an instance of the family subclass that
    code belongs to (NotCommittedError, TooLargeError…), so every raise site
    gets the right class; codes outside the families stay FoundException.
    """

    def __new__(cls, code: int, message: Optional[str] = None) -> "FoundException":
        if cls is FoundException:
            cls = _FAMILIES.get(code, FoundException)
        return super().__new__(cls, code, message)

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
        return "<%s %d %s: %s>" % (type(self).__name__, self.code, self.name, self.message)


# The families users catch: each is a FoundException (same .code, .message),
# chosen by code in FoundException.__new__.


class NotCommittedError(FoundException):
    """not_committed (1020): the transaction conflicted with another one; transactional() retries it."""


class CommitUnknownResultError(FoundException):
    """commit_unknown_result (1021) or cluster_version_changed (1039): the commit may have happened."""


class TransactionTooOldError(FoundException):
    """transaction_too_old (1007): the read version is older than the database keeps (about 5 s)."""


class TimedOutError(FoundException):
    """transaction_timed_out (1031) or timed_out (1004): a timeout option or found_timeout expired."""


class TransactionCancelledError(FoundException):
    """transaction_cancelled (1025) or operation_cancelled (1101): cancelled before it finished."""


class TooLargeError(FoundException):
    """key_too_large (2102), value_too_large (2103) or transaction_too_large (2101): over a size limit."""


_FAMILIES = {
    FDB_ERR_NOT_COMMITTED: NotCommittedError,
    FDB_ERR_COMMIT_UNKNOWN_RESULT: CommitUnknownResultError,
    FDB_ERR_CLUSTER_VERSION_CHANGED: CommitUnknownResultError,
    FDB_ERR_TRANSACTION_TOO_OLD: TransactionTooOldError,
    FDB_ERR_TRANSACTION_TIMED_OUT: TimedOutError,
    FDB_ERR_TIMED_OUT: TimedOutError,
    FDB_ERR_TRANSACTION_CANCELLED: TransactionCancelledError,
    FDB_ERR_OPERATION_CANCELLED: TransactionCancelledError,
    FDB_ERR_KEY_TOO_LARGE: TooLargeError,
    FDB_ERR_VALUE_TOO_LARGE: TooLargeError,
    FDB_ERR_TRANSACTION_TOO_LARGE: TooLargeError,
}


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
