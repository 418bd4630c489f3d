"""From C futures to asyncio.

The engine (and libfdb_c for cached reads) often hands back a future that is
already ready: the callers in _transaction.py check that first and never get
here.  For the rest, ``fdb_future_set_callback`` registers the extern
"Python" callback below; it runs on the network thread and wakes the owning
event loop with ``call_soon_threadsafe``.

Ownership: every C future is destroyed exactly once, on the event loop's
thread — by the code that reads its result, or, when the awaiting task was
cancelled, by ``_Waiter.ready`` once the (cancelled) C future completes.
Once destroyed it goes back to the engine's pool and may serve another
transaction at once, so ``state`` (not the asyncio side) says who owns it.
"""
import asyncio
import itertools
from typing import Any, Callable, Dict, Optional

from found import _network
from found._fdb import ffi, lib

__all__ = ["wait", "as_future"]

_WAITING, _READY, _DONE = 0, 1, 2

_waiters: Dict[int, "_Waiter"] = {}
_tokens = itertools.count(1)
_destroy = lib.fdb_future_destroy
_cancel = lib.fdb_future_cancel
_set_callback = lib.fdb_future_set_callback
_callback = lib._found_future_ready


class _Waiter:
    """One C future awaited by one asyncio future on one loop."""

    __slots__ = ("loop", "aio", "future", "state", "take")

    def __init__(self, loop, future, take):
        self.loop = loop
        self.aio = loop.create_future()
        self.future = future
        self.state = _WAITING
        self.take = take

    def ready(self) -> None:
        """On the loop thread, once the C future is ready."""
        if self.aio.done():  # cancelled while the C future was pending
            self.state = _DONE
            _destroy(self.future)
            return
        self.state = _READY
        if self.take is None:
            self.aio.set_result(None)
            return
        self.state = _DONE
        try:
            result = self.take(self.future)  # reads and destroys
        except BaseException as exc:  # noqa: B902 — handed to the awaiting side
            self.aio.set_exception(exc)
        else:
            self.aio.set_result(result)

    def abandon(self) -> None:
        """The loop is gone: nobody will read the result."""
        self.state = _DONE
        _destroy(self.future)

    def cancel_c_future(self, _aio=None) -> None:
        """The asyncio side was cancelled: cancel the C future, ready() then destroys it."""
        if self.state == _WAITING and self.aio.cancelled():
            _cancel(self.future)


@ffi.def_extern()
def _found_future_ready(future, parameter):
    waiter = _waiters.pop(int(ffi.cast("intptr_t", parameter)), None)
    if waiter is None:
        return
    try:
        waiter.loop.call_soon_threadsafe(waiter.ready)
    except RuntimeError:  # the event loop was closed meanwhile
        waiter.abandon()


def _register(loop, future, take) -> _Waiter:
    waiter = _Waiter(loop, future, take)
    token = next(_tokens)
    _waiters[token] = waiter
    code = _set_callback(future, _callback, ffi.cast("void *", token))
    if code:
        _waiters.pop(token, None)
        waiter.abandon()
        from found._errors import FoundException
        raise FoundException(code)
    return waiter


async def wait(future) -> None:
    """Wait until the C future is ready; the caller then reads and destroys it.

    If the awaiting task is cancelled the C future is cancelled too and
    destroyed when it completes; its result, if any, is dropped.
    """
    waiter = _register(asyncio.get_running_loop(), future, None)
    try:
        await waiter.aio
    except asyncio.CancelledError:
        state = waiter.state
        if state == _WAITING:
            _cancel(future)  # ready() destroys it when it completes
        elif state == _READY:
            waiter.state = _DONE
            _destroy(future)
        # _DONE: ready() saw the cancelled side and destroyed it already; the C
        # future may now belong to another transaction and must not be touched.
        raise
    waiter.state = _DONE


def as_future(future, take: Callable[[Any], Any], loop: Optional[asyncio.AbstractEventLoop] = None) -> "asyncio.Future":
    """An asyncio.Future resolved with ``take(future)`` when the C future is ready.

    Cancelling the asyncio.Future cancels the C future (used by watch()).
    """
    if loop is None:
        loop = asyncio.get_running_loop()
    waiter = _register(loop, future, take)
    waiter.aio.add_done_callback(waiter.cancel_c_future)
    return waiter.aio


def pending_count() -> int:
    """How many C futures are waiting for their callback (for tests)."""
    return len(_waiters)


def _after_fork() -> None:
    """In a forked child: registering a callback raises ForkError, destructors do nothing."""
    global _destroy, _cancel, _set_callback
    _destroy = _cancel = _network.ignore
    _set_callback = _network.forked_error


_network.at_fork_in_child(_after_fork)
