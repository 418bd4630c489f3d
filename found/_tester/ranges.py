"""Range reads with FoundationDB's (begin, end, reverse) arguments, on found.query.

found.query(tx, key, other) chooses the direction from the order of its two
bounds (key < other: forward; otherwise reverse from key down to other), so
it cannot be handed an inverted range the way the C API is.  FoundationDB
answers such a read (ReadYourWritesTransaction::getRange) as follows: after
checking its arguments and the transaction, it normalizes both selectors
(``or_equal`` becomes "key + 0x00"), returns nothing when begin's offset and
key are both >= end's, and otherwise reads between the keys the two
selectors resolve to.  ``read_range`` does the same with found's calls.
"""

from typing import List, Tuple

import found
from found import KeySelector


def _normalized(selector: KeySelector) -> KeySelector:
    if selector.or_equal:
        return KeySelector(selector.key + b"\x00", False, selector.offset)
    return selector


async def _query(
    tx, begin: KeySelector, end: KeySelector, limit: int, reverse: bool, mode: int
) -> List[Tuple[bytes, bytes]]:
    """found.query for begin.key < end.key (and for equal keys in reverse)."""
    if reverse:
        return await found.all(found.query(tx, end, begin, limit=limit, mode=mode))
    return await found.all(found.query(tx, begin, end, limit=limit, mode=mode))


async def read_range(
    tx, begin: KeySelector, end: KeySelector, limit: int, reverse: bool, mode: int
) -> List[Tuple[bytes, bytes]]:
    """The pairs FoundationDB's get_range(begin, end, limit, reverse, mode) returns in ``tx``."""
    if begin.key < end.key:
        return await _query(tx, begin, end, limit, reverse, mode)
    # A read that is empty by its arguments alone, so that the C API checks
    # them (streaming mode, limits, keys in range) and the transaction
    # (cancelled, used during commit) exactly as it does for the real one.
    probe = KeySelector(begin.key, False, 1)  # begin.key >= end.key
    begin, end = _normalized(begin), _normalized(end)
    if begin.key < end.key:
        return await _query(tx, begin, end, limit, reverse, mode)
    await _query(tx, probe, probe, limit, True, mode)
    if begin.offset >= end.offset:
        return []
    first = await found.get_key(tx, begin)
    last = await found.get_key(tx, end)
    if first >= last:
        return []
    return await _query(tx, KeySelector(first, False, 1), KeySelector(last, False, 1), limit, reverse, mode)
