"""Reads the layers built on found (the directory layer, its allocator) share.

Snapshot reads inside a normal transaction: found's read functions read at snapshot isolation when the transaction was
made with ``snapshot=True``. The directory layer needs both kinds in one
transaction (the official binding's ``tr.snapshot``): its allocator reads
counters without conflicts but writes in the same transaction. A view shares
the transaction's C handle and reads at snapshot isolation; it never owns or
destroys the handle, and keeps the transaction alive while it exists.
"""

from typing import Optional, Tuple

from found._selectors import gte
from found._transaction import Transaction, query

__all__ = ["snapshot_of", "first_in", "last_in"]


class _SnapshotView(Transaction):
    __slots__ = ("_owner",)

    def __del__(self) -> None:
        # The handle belongs to _owner, which destroys it.
        pass

    def __repr__(self) -> str:
        return "<found.Transaction snapshot view of %r>" % (self._owner,)


def snapshot_of(tx: Transaction) -> Transaction:
    """A transaction whose reads are ``tx``'s reads at snapshot isolation."""
    if tx.snapshot:
        return tx
    view = object.__new__(_SnapshotView)
    view.pointer = tx.pointer
    view.db = tx.db
    view.snapshot = True
    view.vars = tx.vars
    view._owner = tx
    return view


async def _one(tx: Transaction, key, other) -> Optional[Tuple[bytes, bytes]]:
    pairs = query(tx, key, other, limit=1)
    try:
        async for pair in pairs:
            return pair
        return None
    finally:
        await pairs.aclose()


async def first_in(tx: Transaction, begin: bytes, end: bytes) -> Optional[Tuple[bytes, bytes]]:
    """The first (key, value) with begin <= key < end, or None."""
    if begin >= end:
        return None
    return await _one(tx, begin, end)


async def last_in(tx: Transaction, begin: bytes, end: bytes) -> Optional[Tuple[bytes, bytes]]:
    """The last (key, value) with begin <= key < end, or None."""
    if begin >= end:
        return None
    # Two selectors, end first: query reads [begin, end) in reverse.
    return await _one(tx, gte(end), gte(begin))
