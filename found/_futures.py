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
cancelled, by ``_Port.drain`` once the (cancelled) C future completes — or,
once its loop is closed, in C by the port (see ``_Port.close``).  A commit
sent by ``send_commit`` (transactional()'s path) is the port's from the
start: C reads its error code and destroys it as drain takes it, and the
asyncio future gets the code.
Once destroyed it goes back to the engine's pool and may serve another
transaction at once, so ``state`` (not the asyncio side) says who owns it.
"""

import asyncio
import itertools
from typing import Any, Awaitable, Callable, Dict, Optional

from found import _network
from found._fdb import ffi, lib

__all__ = ["wait", "as_future", "send_commit"]

#: Tokens taken from a port per C call.
_TAKE = 256

_tokens = itertools.count(1)
_ports: Dict[asyncio.AbstractEventLoop, "_Port"] = {}
_destroy = lib.fdb_future_destroy
_cancel = lib.fdb_future_cancel
_watch = lib.found_port_watch
_take = lib.found_port_take
_port_commit = lib.found_port_commit
_send_commit = lib.found_port_send_commit
_SENT = lib.FOUND_COMMIT_SENT
_port_open = lib.found_port_open
_PENDING = lib.FOUND_PENDING
_unpack = ffi.unpack
_new_future = asyncio.Future  # not loop.create_future(): a Python call more per wait
_running_loop = asyncio.get_running_loop


class _Port:
    """One event loop's completion port: what waits on it by token, and the C port.

    ``waiters`` maps a token to ``(aio, future, take)``: the asyncio future
    to resolve, the C future, and for as_future() the function that reads
    (and destroys) its result, else None; or, for a commit the port owns
    (send_commit), to the asyncio future alone, resolved with the commit's
    error code.  A token is in ``waiters`` exactly until drain() has handled
    its C future (no object per wait beyond these: this is the commit path's
    hottest allocation).
    """

    __slots__ = ("loop", "pointer", "fd", "waiters", "tokens", "closed")

    def __init__(self, loop):
        pointer = _port_open()
        if pointer == ffi.NULL:
            raise OSError("found: cannot open a completion port (out of memory or file descriptors)")
        self.loop = loop
        self.pointer = pointer
        self.fd = lib.found_port_fd(pointer)
        self.waiters: Dict[int, tuple] = {}
        self.tokens = ffi.new("intptr_t[]", 2 * _TAKE)  # (token, code) pairs
        self.closed = False
        loop.add_reader(self.fd, self.drain)

    def drain(self) -> None:
        """On the loop thread, when the port's descriptor is readable: finish every ready waiter."""
        pointer, tokens, pop = self.pointer, self.tokens, self.waiters.pop
        while True:
            n = _take(pointer, tokens, _TAKE)
            pairs = iter(_unpack(tokens, 2 * n))
            for token, code in zip(pairs, pairs):
                entry = pop(token, None)
                if entry is None:
                    continue
                if type(entry) is not tuple:  # a commit of send_commit(): C read and destroyed it
                    if not entry.done():
                        entry.set_result(code)
                    continue
                aio, future, take = entry
                if aio.done():  # cancelled while the C future was pending: nobody reads it
                    _destroy(future)
                elif take is None:
                    aio.set_result(None)  # wait() reads and destroys it
                else:
                    try:
                        result = take(future)  # reads and destroys
                    except BaseException as exc:  # noqa: B902 — handed to the awaiting side
                        aio.set_exception(exc)
                    else:
                        aio.set_result(result)
            if n < _TAKE:
                return

    def close(self) -> None:
        """The loop is closed: nobody will read these results; C destroys the futures."""
        if not self.loop.is_closed():
            self.loop.remove_reader(self.fd)
        self.closed = True
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


def _register(loop, future, take):
    """Watch ``future`` on ``loop``'s port: (port, token, the asyncio future)."""
    port = _ports.get(loop) or _port_of(loop)
    aio = _new_future(loop=loop)
    token = next(_tokens)
    port.waiters[token] = (aio, future, take)
    code = _watch(port.pointer, future, token)
    if code:
        port.waiters.pop(token, None)
        _destroy(future)  # nobody will read it
        from found._errors import FoundException

        raise FoundException(code)
    return port, token, aio


async def _settle(port: _Port, token: int, aio, future, then):
    """Await a registered C future's asyncio side, then ``then(future)`` if given.

    If the awaiting task is cancelled the C future is cancelled too and
    destroyed when it completes; its result, if any, is dropped.
    """
    try:
        await aio
    except asyncio.CancelledError:
        if token in port.waiters:
            _cancel(future)  # drain() destroys it when it completes
        elif not aio.cancelled() and not port.closed:
            _destroy(future)  # drain() resolved it, the cancel came after: ours to destroy
        # Else drain() saw the cancelled side and destroyed it already (or the
        # closed port's C side did); the C future may now belong to another
        # transaction and must not be touched.
        raise
    if then is not None:
        return then(future)
    return None


def wait(future, then: Optional[Callable[[Any], Any]] = None) -> Awaitable[Any]:
    """Wait until the C future is ready, then ``then(future)`` (which reads and destroys it).

    Without ``then`` the caller reads and destroys it.  Registers at once
    (call it on the loop's thread, with the loop running) and returns the
    awaitable: one coroutine, not two, between the task and the C future.
    If the awaiting task is cancelled the C future is cancelled too and
    destroyed when it completes; its result, if any, is dropped.
    """
    port, token, aio = _register(_running_loop(), future, None)
    return _settle(port, token, aio, future, then)


def commit(transaction, then: Callable[[Any], Any]) -> Any:
    """Commit the C ``transaction``, its future watched in the same C call (found_port_commit).

    Returns the found_int result when the commit finished at once (READY or
    FAILED, future already destroyed), else an awaitable giving
    ``then(future)`` once it is ready.
    """
    loop = _running_loop()
    port = _ports.get(loop) or _port_of(loop)
    token = next(_tokens)
    r = _port_commit(port.pointer, transaction, token)
    if r.status != _PENDING:
        return r
    future = r.future
    aio = _new_future(loop=loop)
    port.waiters[token] = (aio, future, None)  # drain() runs on this thread: not yet
    return _settle(port, token, aio, future, then)


def send_commit(transaction) -> Any:
    """Send the commit of the C ``transaction``, its outcome to come through the port (one C call).

    Returns 0 when it committed at once, its error code when it failed at
    once, else an asyncio future resolved with the error code (0: committed).
    The C future is the port's: cancelling the awaiting task does not cancel
    the commit; cancel the transaction for that (transactional() does).
    """
    loop = _running_loop()
    port = _ports.get(loop) or _port_of(loop)
    token = next(_tokens)
    code = _send_commit(port.pointer, transaction, token)
    if code != _SENT:
        return code
    aio = port.waiters[token] = _new_future(loop=loop)  # drain() runs on this thread: not yet
    return aio


def as_future(future, take: Callable[[Any], Any], loop: Optional[asyncio.AbstractEventLoop] = None) -> "asyncio.Future":
    """An asyncio.Future resolved with ``take(future)`` when the C future is ready.

    Cancelling the asyncio.Future cancels the C future (used by watch()).
    """
    if loop is None:
        loop = _running_loop()
    port, token, aio = _register(loop, future, take)

    def cancel_c_future(_aio) -> None:
        # still pending in C (drain() has not handled it) and cancelled here
        if token in port.waiters and aio.cancelled():
            _cancel(future)

    aio.add_done_callback(cancel_c_future)
    return aio


def pending_count() -> int:
    """How many C futures are waiting for their callback (for tests)."""
    return sum(len(port.waiters) for port in list(_ports.values()))


def _after_fork() -> None:
    """In a forked child: the completion port's calls raise ForkError, destructors do nothing."""
    global _destroy, _cancel, _watch, _take, _port_commit, _send_commit, _port_open
    _destroy = _cancel = _network.ignore
    _watch = _take = _port_commit = _send_commit = _port_open = _network.forked_error


_network.at_fork_in_child(_after_fork)
