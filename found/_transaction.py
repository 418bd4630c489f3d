"""Transactions: reads, writes, atomic operations, commit and the rest of the C API.

Hot paths (get, set, query, commit) call C through module-level names and
read results with one helper call when the C future is already ready — the
embedded engine answers reads synchronously, so awaiting a callback is the
exception.  Arguments are checked before anything reaches C.
"""

import asyncio
from types import CoroutineType
from typing import Any, AsyncIterator, Awaitable, Dict, List, Optional, Tuple, Union

from found import _futures, _network
from found._codes import (
    FDB_ERR_KEY_TOO_LARGE,
    FDB_ERR_TRANSACTION_READ_ONLY,
    FDB_ERR_VALUE_TOO_LARGE,
    FDB_KEY_SIZE_LIMIT,
    FDB_MUTATION_TYPE_ADD,
    FDB_MUTATION_TYPE_APPEND_IF_FITS,
    FDB_MUTATION_TYPE_BIT_AND,
    FDB_MUTATION_TYPE_BIT_OR,
    FDB_MUTATION_TYPE_BIT_XOR,
    FDB_MUTATION_TYPE_BYTE_MAX,
    FDB_MUTATION_TYPE_BYTE_MIN,
    FDB_MUTATION_TYPE_COMPARE_AND_CLEAR,
    FDB_MUTATION_TYPE_MAX,
    FDB_MUTATION_TYPE_MIN,
    FDB_MUTATION_TYPE_SET_VERSIONSTAMPED_KEY,
    FDB_MUTATION_TYPE_SET_VERSIONSTAMPED_VALUE,
    FDB_STREAMING_MODE_ITERATOR,
    FDB_SYSTEM_KEY_SIZE_LIMIT,
    FDB_TRANSACTION_SIZE_LIMIT,
    FDB_VALUE_SIZE_LIMIT,
)
from found._database import Database, OptionValue, check_database
from found._errors import FoundException, InterfaceError
from found._fdb import ffi, lib
from found._selectors import KeySelector


def _not_at_once(tx, key) -> tuple:
    """found._cpairs.get's answer when it leaves the read to get(): PyPy, a forked child."""
    return ()


def _not_plain(tx, key, value) -> bool:
    """found._cpairs.set's answer when it leaves the write to set(): PyPy, a forked child."""
    return False


try:
    from found._cpairs import bind as _bind
    from found._cpairs import get as _get_value
    from found._cpairs import pairs as _pairs_of
    from found._cpairs import set as _set_plain
except ImportError:  # not CPython: the same in Python
    _pairs_of = _bind = None
    _get_value = _not_at_once
    _set_plain = _not_plain

__all__ = [
    "Transaction",
    "make_transaction",
    "get",
    "set",
    "clear",
    "query",
    "get_key",
    "read_version",
    "set_read_version",
    "query_batches",
    "commit",
    "on_error",
    "reset",
    "cancel",
    "get_committed_version",
    "get_approximate_size",
    "get_versionstamp",
    "watch",
    "add_conflict_range",
    "set_option",
    "get_range_split_points",
    "estimated_size_bytes",
    "get_addresses_for_key",
    "add",
    "bit_and",
    "bit_or",
    "bit_xor",
    "max",
    "min",
    "byte_max",
    "byte_min",
    "set_versionstamped_key",
    "set_versionstamped_value",
    "append_if_fits",
    "compare_and_clear",
]

MAX_SIZE_TRANSACTION = FDB_TRANSACTION_SIZE_LIMIT
MAX_SIZE_KEY = FDB_KEY_SIZE_LIMIT
MAX_SIZE_SYSTEM_KEY = FDB_SYSTEM_KEY_SIZE_LIMIT
MAX_SIZE_VALUE = FDB_VALUE_SIZE_LIMIT

_READY, _HELD, _PENDING, _FAILED = lib.FOUND_READY, lib.FOUND_HELD, lib.FOUND_PENDING, lib.FOUND_FAILED
_KEY_TOO_LARGE, _VALUE_TOO_LARGE, _READ_ONLY = (
    FDB_ERR_KEY_TOO_LARGE,
    FDB_ERR_VALUE_TOO_LARGE,
    FDB_ERR_TRANSACTION_READ_ONLY,
)

_unpack = ffi.unpack
_buffer = ffi.buffer
_INT_SIZE = ffi.sizeof("int")
_found_get = lib.found_get
_found_get_key = lib.found_get_key
_found_get_range = lib.found_get_range
_wait = _futures.wait
_commit_watched = _futures.commit
_take_value = lib.found_take_value
_take_key = lib.found_take_key
_take_range = lib.found_take_range
_take_int64 = lib.found_take_int64
_take_error = lib.found_take_error
_free = lib.found_free
_is_ready = lib.fdb_future_is_ready
_destroy_future = lib.fdb_future_destroy
_destroy_transaction = lib.fdb_transaction_destroy
_create_transaction = lib.found_create_transaction
_new_transaction = object.__new__
_set = lib.fdb_transaction_set
_clear = lib.fdb_transaction_clear
_clear_range = lib.fdb_transaction_clear_range
_atomic_op = lib.fdb_transaction_atomic_op


class Transaction:
    """A FoundationDB transaction.

    ``vars`` is a dict for caching objects for the extent of the transaction
    (cleared by transactional() before each retry); ``snapshot`` true makes
    reads snapshot reads and the transaction read-only.
    """

    __slots__ = ("pointer", "address", "db", "snapshot", "vars", "__weakref__")

    pointer: Any  # the C FDBTransaction * (a CFFI cdata)
    address: int  # the same pointer as an int, for found._cpairs.get
    db: Database
    snapshot: bool
    vars: Dict[Any, Any]

    def __init__(self, pointer: Any, db: Database, snapshot: bool) -> None:
        self.pointer = pointer
        self.address = _address(pointer)
        self.db = db
        self.snapshot = snapshot
        self.vars = {}

    def __del__(self) -> None:
        pointer = getattr(self, "pointer", None)
        if pointer is not None:
            self.pointer = None
            _destroy_transaction(pointer)

    def __repr__(self) -> str:
        return "<found.Transaction%s>" % (" snapshot" if self.snapshot else "")


class _ClosedTransaction(Transaction):
    """A transaction whose transactional() or ``async with transaction()`` is over.

    Same layout as Transaction (closing only swaps the class), so the C
    transaction is still destroyed by Transaction.__del__; every function
    but get_committed_version refuses it (``type(tx) is not Transaction``
    is the one test the hot paths make).
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "<found.Transaction closed>"


def close(tx: Transaction) -> None:
    """Mark ``tx`` closed: any later use raises InterfaceError."""
    if type(tx) is Transaction:
        tx.__class__ = _ClosedTransaction


def _check_transaction(tx: object) -> None:
    """The slow path of ``type(tx) is not Transaction``: closed, a subclass, or not a transaction."""
    if isinstance(tx, _ClosedTransaction):
        raise InterfaceError(
            "this transaction is closed: its found.transactional() call or `async with found.transaction()` "
            "block is over; use the transaction only inside it"
        )
    if isinstance(tx, Transaction):
        return
    hint = (
        ": pass the database to found.transactional(db, func) or found.make_transaction(db), "
        "and the transaction it gives to this function"
        if isinstance(tx, Database)
        else ""
    )
    raise TypeError("tx must be a found.Transaction, not %s%s" % (type(tx).__name__, hint))


def make_transaction(db: Database, snapshot: bool = False) -> Transaction:
    """Create a transaction on ``db`` (snapshot=True: snapshot reads, read-only)."""
    if type(db) is not Database:
        check_database(db)
    spare = db._spare
    if spare:
        try:
            tx = _reuse(spare)
        except IndexError:  # another thread took the last one
            pass
        else:
            tx.db = db
            tx.snapshot = snapshot if snapshot is False or snapshot is True else bool(snapshot)
            return tx
    made = _create_transaction(db.pointer)
    if made.error:
        raise FoundException(made.error)
    tx = _new_transaction(Transaction)
    tx.pointer = made.transaction
    tx.address = _address(made.transaction)
    tx.db = db
    tx.snapshot = snapshot if snapshot is False or snapshot is True else bool(snapshot)
    tx.vars = {}
    return tx


_SPARE_LIMIT = 256
_reuse = list.pop
_reset_transaction = lib.fdb_transaction_reset
try:
    from sys import getrefcount as _refcount
except ImportError:  # not CPython: no reuse
    _refcount = None


def recycle(tx: Transaction) -> None:
    """Keep a finished transaction for reuse when nothing else refers to it.

    Called by transactional() after a successful commit, with ``tx`` held
    only by the caller's local variable: then no one can observe the reuse.
    Otherwise ``tx`` is closed.
    fdb_transaction_reset makes it as good as new; it is cheaper than
    destroy + create, and skips a Python object and its finalizer.
    """
    if _refcount is None or _refcount(tx) > 3:  # the caller's variable, our argument, getrefcount's
        close(tx)  # someone kept it: later uses must fail, not land in another transaction
        return
    spare = tx.db._spare
    if len(spare) < _SPARE_LIMIT:
        _reset_transaction(tx.pointer)
        if tx.vars:
            tx.vars.clear()
        tx.db = None  # no cycle while parked: db → spare → tx → db
        spare.append(tx)


# --- argument checks (the rare path: hot paths test ``type(x) is bytes`` inline)


def _bytes(value, name: str) -> bytes:
    if isinstance(value, bytes):
        return value
    raise TypeError("%s must be bytes, not %s" % (name, type(value).__name__))


def _check_key_size(key: bytes, extra: int = 0) -> None:
    limit = MAX_SIZE_SYSTEM_KEY if key[:1] == b"\xff" else MAX_SIZE_KEY
    if len(key) > limit + extra:
        raise FoundException(_KEY_TOO_LARGE)


def _check_write(tx: Transaction, key: bytes, value: Optional[bytes], key_extra: int = 0) -> None:
    """Everything a write checks besides types: size limits and read-only transactions."""
    if tx.snapshot:
        raise FoundException(_READ_ONLY, "Attempted to write in a snapshot (read-only) transaction")
    _check_key_size(key, key_extra)
    if value is not None and len(value) > MAX_SIZE_VALUE:
        raise FoundException(_VALUE_TOO_LARGE)


def _int(value, name: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise TypeError("%s must be int, not %s" % (name, type(value).__name__))


# --- reading results of C futures that were not ready at once


async def _bytes_result(r, take):
    """Finish a found_bytes result: wait if pending, copy if held, raise if failed."""
    while True:
        status = r.status
        if status == _READY:
            n = r.length
            return _unpack(r.data, n) if n >= 0 else None
        if status == _HELD:
            try:
                return _unpack(r.data, r.length)
            finally:
                _destroy_future(r.future)
        if status == _FAILED:
            raise FoundException(r.error)
        future = r.future
        await _futures.wait(future)
        r = take(future)


def _found_bytes(fields):
    """found._cpairs.get's tuple for a read not done at once, as the found_bytes _bytes_result reads."""
    r = ffi.new("found_bytes *")
    status, r.error, future, data, r.length = fields
    r.status = status
    r.future = ffi.cast("FDBFuture *", future)
    r.data = ffi.cast("const char *", data)
    return r


def _address(pointer) -> int:
    return int(ffi.cast("uintptr_t", pointer))


async def _int64_of(future) -> int:
    if not _is_ready(future):
        await _futures.wait(future)
    r = _take_int64(future)
    if r.status == _FAILED:
        raise FoundException(r.error)
    return r.value


def _take_none(future) -> None:
    r = _take_error(future)
    if r.status == _FAILED:
        raise FoundException(r.error)


async def _void_of(future) -> None:
    if _is_ready(future):
        _take_none(future)
    else:
        await _wait(future, _take_none)


def _take_key_bytes(future) -> bytes:
    r = _take_key(future)
    if r.status == _FAILED:
        raise FoundException(r.error)
    try:
        return _unpack(r.data, r.length)
    finally:
        if r.status == _HELD:
            _destroy_future(r.future)


def _resolved(take, future) -> "asyncio.Future":
    """An asyncio.Future for a C future, resolved now if the C future is ready."""
    loop = asyncio.get_running_loop()
    if not _is_ready(future):
        return _futures.as_future(future, take, loop)
    aio = loop.create_future()
    try:
        aio.set_result(take(future))
    except FoundException as exc:
        aio.set_exception(exc)
    return aio


# --- reads


async def get(tx: Transaction, key: bytes) -> Optional[bytes]:
    """The value of ``key`` (bytes), or None when the key is absent."""
    r = _get_value(tx, key)  # found._cpairs.get: the common case in one CPython call
    if type(r) is not tuple:
        return r
    if r:  # the read is not done at once
        return await _bytes_result(_found_bytes(r), _take_value)
    return await _get_checked(tx, key)


async def _get_checked(tx: Transaction, key: bytes) -> Optional[bytes]:
    """get() for what found._cpairs.get leaves: other kinds of tx or key (checked here), PyPy, a forked child."""
    if type(tx) is not Transaction:
        _check_transaction(tx)
    if type(key) is not bytes:
        key = _bytes(key, "key")
    r = _found_get(tx.pointer, key, len(key), tx.snapshot)
    if r.status == _READY:
        n = r.length
        return _unpack(r.data, n) if n >= 0 else None
    return await _bytes_result(r, _take_value)


async def get_key(tx: Transaction, key_selector: KeySelector) -> bytes:
    """Resolve a key selector (from lt, lte, gt or gte) to a key."""
    if type(tx) is not Transaction:
        _check_transaction(tx)
    if not isinstance(key_selector, KeySelector):
        raise TypeError(
            "key_selector must be a KeySelector (found.lt/lte/gt/gte), not %s" % type(key_selector).__name__
        )
    key, or_equal, offset = key_selector
    r = _found_get_key(tx.pointer, key, len(key), or_equal, offset, tx.snapshot)
    return await _bytes_result(r, _take_key)


def _pairs_py(block, count: int) -> List[Tuple[bytes, bytes]]:
    """found._cpairs.pairs in Python (PyPy): the block's offsets, then slices of its blob."""
    head = _INT_SIZE * (2 * count + 1)
    offsets = memoryview(block)[:head].cast("i").tolist()
    blob = block[head:]
    parts = iter(list(map(blob.__getitem__, map(slice, offsets, offsets[1:]))))
    return list(zip(parts, parts))


if _pairs_of is None:
    _pairs_of = _pairs_py
else:
    _bind(
        Transaction,
        _address(ffi.addressof(lib, "found_get")),
        _address(ffi.addressof(lib, "fdb_transaction_set")),
        MAX_SIZE_KEY,
        MAX_SIZE_VALUE,
    )


def _pairs(r) -> List[Tuple[bytes, bytes]]:
    """Copy a ready found_pairs result into (key, value) tuples and free it."""
    try:
        return _pairs_of(_buffer(r.block, r.size), r.count)
    finally:
        _free(r.block)


def _selector_of(bound, name: str) -> KeySelector:
    if type(bound) is bytes:
        return KeySelector(bound, False, 1)
    if isinstance(bound, KeySelector):
        return bound
    if isinstance(bound, bytes):
        return KeySelector(bound, False, 1)
    raise TypeError("%s must be bytes or a KeySelector, not %s" % (name, type(bound).__name__))


def _bounds(key, other) -> Tuple[KeySelector, KeySelector, bool]:
    """(begin, end, reverse) of query(tx, key, other).

    key < other: [key, other) in order.  Otherwise the range from other up to
    and including key, in reverse order (as asyncio-foundationdb does).
    Selectors given by the caller are used as they are.
    """
    first = _selector_of(key, "key")
    second = _selector_of(other, "other")
    if first.key < second.key:
        return first, second, False
    if not isinstance(key, KeySelector):
        first = KeySelector(first.key, True, 1)
    return second, first, True


async def _pairs_result(r, take):
    while r.status == _PENDING:
        future = r.future
        await _futures.wait(future)
        r = take(future)
    if r.status == _FAILED:
        raise FoundException(r.error)
    return r


async def query(
    tx: Transaction,
    key: Union[bytes, KeySelector],
    other: Union[bytes, KeySelector],
    *,
    limit: int = 0,
    mode: int = FDB_STREAMING_MODE_ITERATOR,
) -> AsyncIterator[Tuple[bytes, bytes]]:
    """Generate the (key, value) pairs between ``key`` and ``other``.

    key < other: from key (included) to other (excluded) in lexicographic
    order; key > other: reverse order from key down to other.  At most
    ``limit`` pairs (0: no limit).  Batches are fetched as FoundationDB's
    streaming ``mode`` suggests, one at a time, so memory stays bounded.
    """
    async for batch in query_batches(tx, key, other, limit=limit, mode=mode):
        for pair in batch:
            yield pair


async def query_batches(
    tx: Transaction,
    key: Union[bytes, KeySelector],
    other: Union[bytes, KeySelector],
    *,
    limit: int = 0,
    mode: int = FDB_STREAMING_MODE_ITERATOR,
) -> AsyncIterator[List[Tuple[bytes, bytes]]]:
    """The pairs of ``query(tx, key, other, limit=limit, mode=mode)``, a list per batch.

    Same range, order, limit and streaming mode as ``query``; each list is
    one batch as FoundationDB returned it (never empty), built in C, so a
    caller that works on many pairs at once skips the per-pair step.
    """
    if type(tx) is not Transaction:
        _check_transaction(tx)
    begin, end, reverse = _bounds(key, other)
    limit = _int(limit, "limit")
    mode = _int(mode, "mode")
    if limit < 0:
        raise ValueError("limit must be >= 0, not %d" % limit)
    pointer = tx.pointer
    snapshot = tx.snapshot
    iteration = 1
    while True:
        r = _found_get_range(
            pointer,
            begin.key,
            len(begin.key),
            begin.or_equal,
            begin.offset,
            end.key,
            len(end.key),
            end.or_equal,
            end.offset,
            limit,
            0,
            mode,
            iteration,
            snapshot,
            reverse,
        )
        if r.status != _READY:
            r = await _pairs_result(r, _take_range)
        count = r.count
        more = r.more
        if count == 0:
            _free(r.block)
            return
        batch = _pairs(r)
        last = batch[-1][0]
        yield batch
        del batch
        if not more:
            return
        if limit:
            limit -= count
            if limit <= 0:
                return
        iteration += 1
        if reverse:
            end = KeySelector(last, False, 1)
        else:
            begin = KeySelector(last, True, 1)


async def read_version(tx: Transaction) -> int:
    """The read version of ``tx``."""
    if type(tx) is not Transaction:
        _check_transaction(tx)
    return await _int64_of(lib.fdb_transaction_get_read_version(tx.pointer))


async def set_read_version(tx: Transaction, version: int) -> None:
    """Set the read version of ``tx`` to ``version``."""
    if type(tx) is not Transaction:
        _check_transaction(tx)
    lib.fdb_transaction_set_read_version(tx.pointer, _int(version, "version"))


async def estimated_size_bytes(tx: Transaction, begin: bytes, end: bytes) -> int:
    """An estimate of the bytes stored between ``begin`` and ``end``."""
    if type(tx) is not Transaction:
        _check_transaction(tx)
    begin = _bytes(begin, "begin")
    end = _bytes(end, "end")
    return await _int64_of(
        lib.fdb_transaction_get_estimated_range_size_bytes(tx.pointer, begin, len(begin), end, len(end))
    )


def _take_key_array(future) -> List[bytes]:
    keys = ffi.new("FDBKey **")
    count = ffi.new("int *")
    try:
        code = lib.fdb_future_get_key_array(future, keys, count)
        if code:
            raise FoundException(code)
        array = keys[0]
        return [_unpack(ffi.cast("char *", array[i].key), array[i].key_length) for i in range(count[0])]
    finally:
        _destroy_future(future)


def _take_string_array(future) -> List[str]:
    strings = ffi.new("char ***")
    count = ffi.new("int *")
    try:
        code = lib.fdb_future_get_string_array(future, ffi.cast("const char ***", strings), count)
        if code:
            raise FoundException(code)
        return [ffi.string(strings[0][i]).decode("utf-8", "replace") for i in range(count[0])]
    finally:
        _destroy_future(future)


async def get_range_split_points(tx: Transaction, begin: bytes, end: bytes, chunk_size: int) -> List[bytes]:
    """Keys splitting [begin, end) into chunks of about ``chunk_size`` bytes.

    As documented for asyncio-foundationdb, the answer is an empty list when
    the range is empty or smaller than ``chunk_size``; otherwise it is
    FoundationDB's list, which starts with ``begin`` and ends with ``end``."""
    if type(tx) is not Transaction:
        _check_transaction(tx)
    begin = _bytes(begin, "begin")
    end = _bytes(end, "end")
    future = lib.fdb_transaction_get_range_split_points(
        tx.pointer, begin, len(begin), end, len(end), _int(chunk_size, "chunk_size")
    )
    if not _is_ready(future):
        await _futures.wait(future)
    points = _take_key_array(future)
    # FoundationDB answers [begin, end] when no key splits the range.
    return points if len(points) > 2 else []


async def get_addresses_for_key(tx: Transaction, key: bytes) -> List[str]:
    """Addresses of the storage servers responsible for ``key``."""
    if type(tx) is not Transaction:
        _check_transaction(tx)
    key = _bytes(key, "key")
    future = lib.fdb_transaction_get_addresses_for_key(tx.pointer, key, len(key))
    if not _is_ready(future):
        await _futures.wait(future)
    return _take_string_array(future)


# --- writes


async def set(tx: Transaction, key: bytes, value: bytes) -> None:
    """Associate ``key`` with ``value`` (both bytes)."""
    if _set_plain(tx, key, value):  # found._cpairs.set: the common case in one CPython call
        return
    if type(tx) is not Transaction:
        _check_transaction(tx)
    if type(key) is not bytes:
        key = _bytes(key, "key")
    if type(value) is not bytes:
        value = _bytes(value, "value")
    n = len(key)
    m = len(value)
    if n > MAX_SIZE_KEY or m > MAX_SIZE_VALUE or tx.snapshot:
        _check_write(tx, key, value)
    _set(tx.pointer, key, n, value, m)


async def clear(tx: Transaction, key: bytes, other: Optional[bytes] = None) -> None:
    """Clear ``key``, or with ``other`` every key in [key, other)."""
    if type(tx) is not Transaction:
        _check_transaction(tx)
    if type(key) is not bytes:
        key = _bytes(key, "key")
    if tx.snapshot:
        raise FoundException(_READ_ONLY, "Attempted to write in a snapshot (read-only) transaction")
    if other is None:
        _clear(tx.pointer, key, len(key))
        return
    if type(other) is not bytes:
        other = _bytes(other, "other")
    _clear_range(tx.pointer, key, len(key), other, len(other))


def _atomic(tx: Transaction, key, param, operation: int, key_extra: int = 0) -> None:
    if type(tx) is not Transaction:
        _check_transaction(tx)
    if type(key) is not bytes:
        key = _bytes(key, "key")
    if type(param) is not bytes:
        param = _bytes(param, "param")
    if len(key) > MAX_SIZE_KEY or len(param) > MAX_SIZE_VALUE or tx.snapshot:
        _check_write(tx, key, param, key_extra)
    _atomic_op(tx.pointer, key, len(key), param, len(param), operation)


async def add(tx: Transaction, key: bytes, param: bytes) -> None:
    """Atomically add ``param`` (little-endian integer) to the value of ``key``."""
    _atomic(tx, key, param, FDB_MUTATION_TYPE_ADD)


async def bit_and(tx: Transaction, key: bytes, param: bytes) -> None:
    """Atomic bitwise AND of ``param`` with the value of ``key``."""
    _atomic(tx, key, param, FDB_MUTATION_TYPE_BIT_AND)


async def bit_or(tx: Transaction, key: bytes, param: bytes) -> None:
    """Atomic bitwise OR of ``param`` with the value of ``key``."""
    _atomic(tx, key, param, FDB_MUTATION_TYPE_BIT_OR)


async def bit_xor(tx: Transaction, key: bytes, param: bytes) -> None:
    """Atomic bitwise XOR of ``param`` with the value of ``key``."""
    _atomic(tx, key, param, FDB_MUTATION_TYPE_BIT_XOR)


async def max(tx: Transaction, key: bytes, param: bytes) -> None:  # noqa: A001 — documented name
    """Atomically keep the larger of the value of ``key`` and ``param`` (unsigned little-endian)."""
    _atomic(tx, key, param, FDB_MUTATION_TYPE_MAX)


async def min(tx: Transaction, key: bytes, param: bytes) -> None:  # noqa: A001 — documented name
    """Atomically keep the smaller of the value of ``key`` and ``param`` (unsigned little-endian)."""
    _atomic(tx, key, param, FDB_MUTATION_TYPE_MIN)


async def byte_max(tx: Transaction, key: bytes, param: bytes) -> None:
    """Atomically keep the lexicographically larger of the value of ``key`` and ``param``."""
    _atomic(tx, key, param, FDB_MUTATION_TYPE_BYTE_MAX)


async def byte_min(tx: Transaction, key: bytes, param: bytes) -> None:
    """Atomically keep the lexicographically smaller of the value of ``key`` and ``param``."""
    _atomic(tx, key, param, FDB_MUTATION_TYPE_BYTE_MIN)


async def set_versionstamped_key(tx: Transaction, key: bytes, param: bytes) -> None:
    """Set a key holding an incomplete versionstamp (its offset in the last 4 bytes) to ``param``."""
    _atomic(tx, key, param, FDB_MUTATION_TYPE_SET_VERSIONSTAMPED_KEY, key_extra=4)


async def set_versionstamped_value(tx: Transaction, key: bytes, param: bytes) -> None:
    """Set ``key`` to ``param``, which holds an incomplete versionstamp (offset in its last 4 bytes)."""
    _atomic(tx, key, param, FDB_MUTATION_TYPE_SET_VERSIONSTAMPED_VALUE)


async def append_if_fits(tx: Transaction, key: bytes, param: bytes) -> None:
    """Atomically append ``param`` to the value of ``key`` unless the result would be too large."""
    _atomic(tx, key, param, FDB_MUTATION_TYPE_APPEND_IF_FITS)


async def compare_and_clear(tx: Transaction, key: bytes, param: bytes) -> None:
    """Atomically clear ``key`` if its value equals ``param``."""
    _atomic(tx, key, param, FDB_MUTATION_TYPE_COMPARE_AND_CLEAR)


def add_conflict_range(tx: Transaction, begin: bytes, end: bytes, conflict_type: int) -> None:
    """Add a read or write conflict range [begin, end) (CONFLICT_RANGE_TYPE_READ or _WRITE)."""
    if type(tx) is not Transaction:
        _check_transaction(tx)
    begin = _bytes(begin, "begin")
    end = _bytes(end, "end")
    code = lib.fdb_transaction_add_conflict_range(
        tx.pointer, begin, len(begin), end, len(end), _int(conflict_type, "conflict_type")
    )
    if code:
        raise FoundException(code)


def set_option(tx: Transaction, option: int, value: OptionValue = None) -> None:
    """Set a transaction option (an ``FDB_TR_OPTION_*`` constant); ``value`` bytes (int accepted) or None."""
    if type(tx) is not Transaction:
        _check_transaction(tx)
    option = _int(option, "option")
    data, size = _network.option_value(value, "TransactionOption", option)
    code = lib.fdb_transaction_set_option(tx.pointer, option, data, size)
    if code:
        raise FoundException(code)


# --- transaction lifecycle


def start_commit(tx: Transaction) -> Optional[Awaitable[None]]:
    """Send the commit of ``tx`` (checked by the caller): None once committed, else what to await.

    The one place a commit is made: commit() and transactional()'s fast path
    both call it; raises FoundException if the commit failed at once.
    """
    r = _commit_watched(tx.pointer, _take_none)
    if type(r) is CoroutineType:
        return r
    if r.status == _FAILED:
        raise FoundException(r.error)
    return None


async def commit(tx: Transaction) -> None:
    """Commit ``tx``; raises FoundException if it did not commit."""
    if type(tx) is not Transaction:
        _check_transaction(tx)
    pending = start_commit(tx)
    if pending is not None:
        await pending


async def on_error(tx: Transaction, code: int) -> None:
    """Hand error ``code`` to FoundationDB: returns (after backoff, tx reset) if retryable, else raises."""
    if type(tx) is not Transaction:
        _check_transaction(tx)
    await _void_of(lib.fdb_transaction_on_error(tx.pointer, _int(code, "code")))


def reset(tx: Transaction) -> None:
    """Reset ``tx`` to its initial state."""
    if type(tx) is not Transaction:
        _check_transaction(tx)
    lib.fdb_transaction_reset(tx.pointer)


def cancel(tx: Transaction) -> None:
    """Cancel ``tx``: pending and later operations on it fail."""
    if type(tx) is not Transaction:
        _check_transaction(tx)
    lib.fdb_transaction_cancel(tx.pointer)


def get_committed_version(tx: Transaction) -> int:
    """The version at which ``tx`` committed (after commit)."""
    if not isinstance(tx, Transaction):
        _check_transaction(tx)
    out = ffi.new("int64_t *")
    code = lib.fdb_transaction_get_committed_version(tx.pointer, out)
    if code:
        raise FoundException(code)
    return out[0]


async def get_approximate_size(tx: Transaction) -> int:
    """Approximate size in bytes of ``tx`` so far (mutations and conflict ranges)."""
    if type(tx) is not Transaction:
        _check_transaction(tx)
    return await _int64_of(lib.fdb_transaction_get_approximate_size(tx.pointer))


def get_versionstamp(tx: Transaction) -> "asyncio.Future[bytes]":
    """The 10-byte versionstamp of ``tx``: call before commit, await after commit completes."""
    if type(tx) is not Transaction:
        _check_transaction(tx)
    return _resolved(_take_key_bytes, lib.fdb_transaction_get_versionstamp(tx.pointer))


def watch(tx: Transaction, key: bytes) -> "asyncio.Future[None]":
    """Register a watch on ``key`` now; the returned asyncio.Future resolves when the key changes.

    The watch becomes active when ``tx`` commits.  Cancel the future of an
    unused watch.
    """
    if type(tx) is not Transaction:
        _check_transaction(tx)
    key = _bytes(key, "key")
    return _resolved(_take_none, lib.fdb_transaction_watch(tx.pointer, key, len(key)))


def _after_fork() -> None:
    """In a forked child: every C call of the hot paths raises ForkError, destructors do nothing."""
    global _found_get, _found_get_key, _found_get_range, _take_value, _take_key, _take_range, _get_value, _set_plain
    global _take_int64, _take_error, _is_ready, _create_transaction, _set, _clear, _clear_range, _atomic_op
    global _reuse, _reset_transaction, _destroy_future, _destroy_transaction, _free
    _found_get = _found_get_key = _found_get_range = _network.forked_error
    _get_value = _not_at_once  # get() takes the CFFI path, which raises ForkError
    _set_plain = _not_plain  # and set() too
    _take_value = _take_key = _take_range = _take_int64 = _take_error = _network.forked_error
    _is_ready = _create_transaction = _set = _clear = _clear_range = _atomic_op = _network.forked_error
    _reuse = _reset_transaction = _network.forked_error
    _destroy_future = _destroy_transaction = _free = _network.ignore


_network.at_fork_in_child(_after_fork)
