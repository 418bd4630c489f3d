"""The high-contention allocator: short, never reused prefixes for new directories.

FoundationDB's design, with its key layout (so found and the official
bindings allocate from the same counters):

- ``counters[start]``: how many allocations were made in the window that
  begins at integer ``start`` (a little-endian int64, grown by atomic add);
- ``recent[candidate]``: a candidate integer handed out from that window.

Windows are small while few prefixes exist (64 integers below 255, 1024 below
65535, then 8192). A window is used until half its integers are claimed; then
the next window starts and the older counters and candidates are cleared.
Counters are read at snapshot isolation and candidates are claimed with a
write conflict on the one key, so concurrent allocations rarely conflict.
The allocated prefix is the tuple-packed candidate integer.
"""

import asyncio
import collections
import random
import struct
import threading

from found import tuple as _tuple
from found._codes import CONFLICT_RANGE_TYPE_WRITE, FDB_TR_OPTION_NEXT_WRITE_NO_WRITE_CONFLICT_RANGE
from found._layer_reads import last_in, snapshot_of
from found._subspace import Subspace
from found._transaction import Transaction, add, add_conflict_range, clear, get, set, set_option

__all__ = ["HighContentionAllocator"]

_ONE = struct.pack("<q", 1)
# The per-transaction lock lives in tx.vars under this key (cleared on retry).
_LOCK = ("found._hca", "lock")


def window_size(start: int) -> int:
    """How many integers the window that begins at ``start`` offers."""
    if start < 255:
        return 64
    if start < 65535:
        return 1024
    return 8192


class _Lock:
    """A lock for coroutines on any event loop.

    A transaction may be used by several threads, each running its own event
    loop (the bindingtester's threaded tester shares transactions so); an
    asyncio.Lock belongs to one loop, and releasing it from another thread
    never wakes the waiter.  Here a release hands the lock to the oldest
    waiter, woken on its own loop with call_soon_threadsafe.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._locked = False
        self._waiters: "collections.deque[asyncio.Future]" = collections.deque()

    async def __aenter__(self) -> "_Lock":
        with self._mutex:
            if not self._locked:
                self._locked = True
                return self
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            with self._mutex:
                queued = waiter in self._waiters
                if queued:
                    self._waiters.remove(waiter)
            if not queued and waiter.done() and not waiter.cancelled():
                self._release()  # handed the lock, then cancelled before resuming
            # (handed over but not yet woken: _hand_over sees the cancellation and passes it on)
            raise
        return self

    async def __aexit__(self, *exc_info) -> None:
        self._release()

    def _release(self) -> None:
        with self._mutex:
            if not self._waiters:
                self._locked = False
                return
            waiter = self._waiters.popleft()
        waiter.get_loop().call_soon_threadsafe(self._hand_over, waiter)

    def _hand_over(self, waiter: "asyncio.Future") -> None:
        if waiter.cancelled():
            self._release()
        else:
            waiter.set_result(None)


def _lock_of(tx: Transaction) -> _Lock:
    # Allocations running concurrently in one transaction take turns through
    # each read-modify-write step, as the official binding's per-transaction lock does.
    lock = tx.vars.get(_LOCK)
    if lock is None:
        lock = tx.vars.setdefault(_LOCK, _Lock())  # one lock even if two threads race here
    return lock


class HighContentionAllocator:
    """Allocates integers (packed as tuples) from counters kept in ``subspace``."""

    def __init__(self, subspace: Subspace) -> None:
        self.counters = subspace[0]
        self.recent = subspace[1]

    async def allocate(self, tx: Transaction) -> bytes:
        """A packed integer never returned before by this allocator, nearly as short as possible."""
        snapshot = snapshot_of(tx)
        lock = _lock_of(tx)
        while True:
            start, window = await self._current_window(tx, snapshot, lock)
            candidate = await self._claim(tx, snapshot, lock, start, window)
            if candidate is not None:
                return _tuple.pack((candidate,))

    async def _latest_start(self, snapshot: Transaction) -> int:
        span = self.counters.range()
        last = await last_in(snapshot, span.start, span.stop)
        return self.counters.unpack(last[0])[0] if last else 0

    async def _current_window(self, tx: Transaction, snapshot: Transaction, lock: _Lock):
        """(start, size) of a window less than half full, counting this allocation in it."""
        start = await self._latest_start(snapshot)
        advanced = False
        while True:
            async with lock:
                if advanced:
                    await clear(tx, self.counters.key(), self.counters.pack((start,)))
                    set_option(tx, FDB_TR_OPTION_NEXT_WRITE_NO_WRITE_CONFLICT_RANGE)
                    await clear(tx, self.recent.key(), self.recent.pack((start,)))
                counter = self.counters.pack((start,))
                await add(tx, counter, _ONE)
                raw = await get(snapshot, counter)
            count = struct.unpack("<q", raw)[0] if raw is not None else 0
            window = window_size(start)
            if count * 2 < window:
                return start, window
            start += window
            advanced = True

    async def _claim(self, tx: Transaction, snapshot: Transaction, lock: _Lock, start: int, window: int):
        """A free candidate of the window, or None when the window moved on meanwhile."""
        while True:
            # The window is less than half full as of the snapshot: about two tries.
            candidate = random.randrange(start, start + window)
            key = self.recent.pack((candidate,))
            async with lock:
                latest = await self._latest_start(snapshot)
                taken = await get(tx, key)
                set_option(tx, FDB_TR_OPTION_NEXT_WRITE_NO_WRITE_CONFLICT_RANGE)
                await set(tx, key, b"")
            if latest > start:
                return None
            if taken is None:
                add_conflict_range(tx, key, key + b"\x00", CONFLICT_RANGE_TYPE_WRITE)
                return candidate
