"""From C futures to asyncio.

The engine (and libfdb_c for cached reads) often hands back a future that is
already ready: the callers in _transaction.py check that first and never get
here.  For the rest, each event loop has a completion port
(ffi/driver/completions.c): a C callback queues the ready future's token in C,
on whatever thread completes it, without the GIL, and makes the port's file
descriptor readable only when the queue was empty.  The loop reads that
descriptor (``add_reader``) and takes the whole queue in one call, so a batch
of commits completed together wakes the loop once and the engine's commit
thread never waits for Python.

Ownership: every C future is destroyed exactly once, on the event loop's
thread — by the code that reads its result, or, when the awaiting task was
cancelled, by ``_Waiter.ready`` once the (cancelled) C future completes — or,
once its loop is closed, in C by the port (see ``_Port.close``).
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
#: Tokens taken from a port per C call.
_TAKE = 256

_tokens = itertools.count(1)
_ports: Dict[asyncio.AbstractEventLoop, "_Port"] = {}
_destroy = lib.fdb_future_destroy
_cancel = lib.fdb_future_cancel
_watch = lib.found_port_watch
_take = lib.found_port_take
_unpack = ffi.unpack


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
        """Nobody will read the result (the callback could not be set)."""
        self.state = _DONE
        _destroy(self.future)

    def cancel_c_future(self, _aio=None) -> None:
        """The asyncio side was cancelled: cancel the C future, ready() then destroys it."""
        if self.state == _WAITING and self.aio.cancelled():
            _cancel(self.future)


class _Port:
    """One event loop's completion port: its waiters by token, and the C port."""

    __slots__ = ("loop", "pointer", "fd", "waiters", "tokens")

    def __init__(self, loop):
        pointer = lib.found_port_open()
        if pointer == ffi.NULL:
            raise OSError("found: cannot open a completion port (out of memory or file descriptors)")
        self.loop = loop
        self.pointer = pointer
        self.fd = lib.found_port_fd(pointer)
        self.waiters: Dict[int, _Waiter] = {}
        self.tokens = ffi.new("intptr_t[]", _TAKE)
        loop.add_reader(self.fd, self.drain)

    def drain(self) -> None:
        """On the loop thread, when the port's descriptor is readable: finish every ready waiter."""
        pointer, tokens, pop = self.pointer, self.tokens, self.waiters.pop
        while True:
            n = _take(pointer, tokens, _TAKE)
            for token in _unpack(tokens, n):
                waiter = pop(token, None)
                if waiter is not None:
                    waiter.ready()
            if n < _TAKE:
                return

    def close(self) -> None:
        """The loop is closed: nobody will read these results; C destroys the futures."""
        if not self.loop.is_closed():
            self.loop.remove_reader(self.fd)
        for waiter in self.waiters.values():
            waiter.state = _DONE
        self.waiters.clear()
        lib.found_port_close(self.pointer)
        self.pointer = ffi.NULL


def _port_of(loop) -> _Port:
    """The loop's port, opened on first use (closing the ports of loops closed since).

    Loops in other threads may open theirs meanwhile: the dict is copied
    (atomic under the GIL) and each closed port is closed by whoever pops it.
    """
    for other in list(_ports):
        if other.is_closed():
            closed = _ports.pop(other, None)
            if closed is not None:
                closed.close()
    port = _ports[loop] = _Port(loop)
    return port


def _register(loop, future, take) -> _Waiter:
    port = _ports.get(loop)
    if port is None:
        port = _port_of(loop)
    waiter = _Waiter(loop, future, take)
    token = next(_tokens)
    port.waiters[token] = waiter
    code = _watch(port.pointer, future, token)
    if code:
        port.waiters.pop(token, None)
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
    return sum(len(port.waiters) for port in list(_ports.values()))


def _after_fork() -> None:
    """In a forked child: the completion port's calls raise ForkError, destructors do nothing."""
    global _destroy, _cancel, _watch, _take
    _destroy = _cancel = _network.ignore
    _watch = _take = _network.forked_error


_network.at_fork_in_child(_after_fork)
