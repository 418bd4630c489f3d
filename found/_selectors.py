"""Key selectors: FoundationDB's (key, or_equal, offset) triple.

FoundationDB resolves a selector by finding the last key less than ``key``
(or less than or equal when ``or_equal``) and moving ``offset`` keys from
there.  With the documented default offsets:

- ``lt(k)``  = (k, False, 0): the last key < k
- ``lte(k)`` = (k, True, 0):  the last key <= k
- ``gt(k)``  = (k, True, 1):  the first key > k
- ``gte(k)`` = (k, False, 1): the first key >= k

Other offsets move further right (positive) or left (zero or negative).
"""

from typing import NamedTuple

__all__ = ["KeySelector", "lt", "lte", "gt", "gte"]


class KeySelector(NamedTuple):
    """A key selector; build it with lt, lte, gt or gte."""

    key: bytes
    or_equal: bool
    offset: int


def _selector(key, or_equal: bool, offset) -> KeySelector:
    if type(key) is not bytes and not isinstance(key, bytes):
        raise TypeError("key must be bytes, not %s" % type(key).__name__)
    if type(offset) is not int and (not isinstance(offset, int) or isinstance(offset, bool)):
        raise TypeError("offset must be int, not %s" % type(offset).__name__)
    return KeySelector(key, or_equal, offset)


def lt(key: bytes, offset: int = 0) -> KeySelector:
    """Selector of the last key lexicographically less than ``key`` (moved by ``offset``)."""
    return _selector(key, False, offset)


def lte(key: bytes, offset: int = 0) -> KeySelector:
    """Selector of the last key lexicographically less than or equal to ``key`` (moved by ``offset``)."""
    return _selector(key, True, offset)


def gt(key: bytes, offset: int = 1) -> KeySelector:
    """Selector of the first key lexicographically greater than ``key`` (offset 1; more moves right)."""
    return _selector(key, True, offset)


def gte(key: bytes, offset: int = 1) -> KeySelector:
    """Selector of the first key lexicographically greater than or equal to ``key`` (offset 1; more moves right)."""
    return _selector(key, False, offset)
