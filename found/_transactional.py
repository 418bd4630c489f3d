"""The retry loop (transactional) and the single-attempt context manager (transaction)."""

import asyncio
import contextlib
import inspect
import logging
import time
from types import CoroutineType
from typing import Any, AsyncIterator, Awaitable, Callable, Optional, TypeVar

from found._codes import FDB_ERR_COMMIT_UNKNOWN_RESULT, FDB_ERR_TRANSACTION_TIMED_OUT
from found._database import Database
from found._errors import FoundException
from found._futures import send_commit
from found._hooks import TransactionStats
from found._transaction import (
    Transaction,
    cancel,
    close,
    commit,
    get_approximate_size,
    make_transaction,
    on_error,
    recycle,
)

__all__ = ["transactional", "transaction"]

T = TypeVar("T")
_clock = time.perf_counter
_log = logging.getLogger("found")


def _not_awaitable(out: Any, func: Any) -> Any:
    """The slow path of ``type(out) is CoroutineType``: any awaitable will do, anything else is misuse."""
    if inspect.isawaitable(out):
        return out
    raise TypeError(
        "func must be an async function (or return an awaitable): %s returned %s"
        % (getattr(func, "__qualname__", repr(func)), type(out).__name__)
    )


async def _fire(hooks, tx: Transaction) -> None:
    for hook in hooks:
        await hook(tx)


async def _post_commit(
    db: Database, tx: Transaction, started: float, retries: int, maybe: int, commit_bytes: int
) -> None:
    stats = TransactionStats(retries, _clock() - started, commit_bytes, maybe)
    for hook in db.hooks.on_post_commit:
        await hook(tx, stats)


async def _attempt(db: Database, tx: Transaction, func, args, kwargs, sizing: bool, progress=None):
    """One attempt: on_begin hooks, func, on_commit hooks, commit → (result, commit_bytes).

    ``progress`` (a list), when given, gets "commit" appended once the commit is sent.
    """
    hooks = db.hooks
    if hooks.on_begin:
        await _fire(hooks.on_begin, tx)
    out = func(tx, *args, **kwargs)
    if type(out) is not CoroutineType:
        out = _not_awaitable(out, func)
    out = await out
    if hooks.on_commit:
        await _fire(hooks.on_commit, tx)
    commit_bytes = await get_approximate_size(tx) if sizing else 0
    if progress is not None:
        progress.append("commit")
    await commit(tx)
    return out, commit_bytes


def _check_limits(found_retry_limit, found_timeout) -> None:
    if found_retry_limit is not None and (not isinstance(found_retry_limit, int) or found_retry_limit < 0):
        raise ValueError("found_retry_limit must be None or an int >= 0, not %r" % (found_retry_limit,))
    if found_timeout is not None and (not isinstance(found_timeout, (int, float)) or found_timeout <= 0):
        raise ValueError("found_timeout must be None or a number of seconds > 0, not %r" % (found_timeout,))


def _timed_out() -> FoundException:
    return FoundException(FDB_ERR_TRANSACTION_TIMED_OUT)


async def transactional(
    db: Database,
    func: Callable[..., Awaitable[T]],
    *args: Any,
    snapshot: bool = False,
    found_retry_limit: Optional[int] = None,
    found_timeout: Optional[float] = None,
    **kwargs: Any,
) -> T:
    """Run ``await func(tx, *args, **kwargs)`` in a transaction on ``db`` and commit, retrying on conflicts.

    Retryable FoundationDB errors go through ``on_error`` (backoff, reset) and
    ``func`` runs again, so it should be idempotent; ``tx.vars`` is cleared
    before each retry.  ``snapshot=True``: snapshot reads, read-only.
    ``db.hooks`` fire as documented on Hooks.

    found additions (keyword-only, named so they cannot clash with ``func``'s
    own keywords): ``found_retry_limit`` — at most this many retries, then the
    last error is raised; ``found_timeout`` — seconds for the whole call,
    after which FoundException 1031 (transaction_timed_out) is raised.
    A raised FoundException has ``maybe_committed`` true when the last
    attempt ended with commit_unknown_result.

    ``func`` must be an async function (or return an awaitable), else
    TypeError.  Once the call returns or raises, the transaction is closed:
    a ``tx`` kept past it raises found.InterfaceError on any use but
    get_committed_version(tx).  Each retry is logged at DEBUG on the
    ``found`` logger (attempt, error code, backoff).
    """
    if found_retry_limit is not None or found_timeout is not None:
        _check_limits(found_retry_limit, found_timeout)
    if not callable(func):
        raise TypeError("func must be an async function taking the transaction first, not %s" % type(func).__name__)
    started = _clock()
    tx = make_transaction(db, snapshot)
    on_begin, on_commit, on_post_commit = db.hooks
    if not (on_begin or on_commit or on_post_commit or found_timeout is not None):
        # The common case, kept short: no hooks, no deadline.
        try:
            out = func(tx, *args, **kwargs)
            if type(out) is not CoroutineType:
                out = _not_awaitable(out, func)
            out = await out
            code = send_commit(tx.pointer)  # the port reads the outcome: no C call after this one
            if type(code) is not int:
                code = await code  # cancelled: _end() below cancels tx, and with it the commit
            if code:
                raise FoundException(code)
            recycle(tx)  # or closes it
            return out
        except FoundException as exc:
            first_error = exc
        except BaseException:
            _end(tx)
            raise
    else:
        first_error = None
    try:
        return await _retry_loop(db, tx, func, args, kwargs, started, found_retry_limit, found_timeout, first_error)
    except BaseException:
        _end(tx)
        raise
    finally:
        close(tx)


def _end(tx: Transaction) -> None:
    """An exception leaves transactional(): its traceback keeps tx alive until
    it is collected (often a cycle), so give back its read snapshot (a slot in
    the engine's reader table, old pages pinned) now, and close it."""
    if type(tx) is Transaction:
        cancel(tx)
    close(tx)


async def _retry_loop(
    db: Database,
    tx: Transaction,
    func,
    args,
    kwargs,
    started: float,
    found_retry_limit: Optional[int],
    found_timeout: Optional[float],
    error: Optional[FoundException],
):
    """transactional() from its first failure, or from the start when hooks or a deadline apply."""
    deadline = None if found_timeout is None else started + found_timeout
    retries = 0
    maybe = 0
    while True:
        if error is None:
            sizing = bool(db.hooks.on_post_commit)
            try:
                if deadline is None:
                    out, commit_bytes = await _attempt(db, tx, func, args, kwargs, sizing)
                else:
                    remaining = deadline - _clock()
                    if remaining <= 0:
                        raise _timed_out()
                    progress: list = []
                    try:
                        out, commit_bytes = await asyncio.wait_for(
                            _attempt(db, tx, func, args, kwargs, sizing, progress), remaining
                        )
                    except asyncio.TimeoutError:
                        cancel(tx)
                        timed_out = _timed_out()
                        # Interrupted while committing: the commit may have been applied.
                        timed_out.maybe_committed = bool(progress)
                        raise timed_out from None
            except FoundException as exc:
                error = exc
            else:
                if db.hooks.on_post_commit:
                    await _post_commit(db, tx, started, retries, maybe, commit_bytes)
                return out
        exc, error = error, None
        if exc.code == FDB_ERR_COMMIT_UNKNOWN_RESULT:
            maybe += 1
        # An earlier attempt that ended in commit_unknown_result may have committed.
        exc.maybe_committed = exc.maybe_committed or maybe > 0
        if exc.code == FDB_ERR_TRANSACTION_TIMED_OUT and deadline is not None:
            raise exc
        if found_retry_limit is not None and retries >= found_retry_limit:
            raise exc
        delay = _clock()
        try:
            await on_error(tx, exc.code)
        except FoundException:
            raise exc from None
        retries += 1
        _log.debug(
            "found: transactional retry %d after error %d (%s), backed off %.3f s",
            retries,
            exc.code,
            exc.name,
            _clock() - delay,
        )
        tx.vars.clear()
        # Retried, never raised: its traceback would keep the frames (and tx)
        # alive in a cycle until the garbage collector runs.
        exc.__traceback__ = None


@contextlib.asynccontextmanager
async def transaction(db: Database, snapshot: bool = False) -> AsyncIterator[Transaction]:
    """``async with found.transaction(db) as tx:`` — one attempt, no retry.

    Commits on clean exit; on an exception the transaction is cancelled,
    not committed, and the exception propagates.  Fires the same hooks as
    transactional() (on_post_commit gets retries=0).  Once the block is
    over, ``tx`` is closed: any use but get_committed_version(tx) raises
    found.InterfaceError.
    """
    started = _clock()
    tx = make_transaction(db, snapshot)
    hooks = db.hooks
    try:
        if hooks.on_begin:
            await _fire(hooks.on_begin, tx)
        try:
            yield tx
        except BaseException:
            cancel(tx)
            raise
        if hooks.on_commit:
            await _fire(hooks.on_commit, tx)
        sizing = bool(hooks.on_post_commit)
        commit_bytes = await get_approximate_size(tx) if sizing else 0
        await commit(tx)
        if hooks.on_post_commit:
            await _post_commit(db, tx, started, 0, 0, commit_bytes)
    finally:
        close(tx)
