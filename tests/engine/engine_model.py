"""Reference semantics, written from FoundationDB's documentation, that the
engine's results are compared with: atomic operations, key selectors, and
a transaction's view of its own writes."""

import bisect
import struct

VALUE_SIZE_LIMIT = 100000

ADD, BIT_AND, BIT_OR, BIT_XOR, APPEND_IF_FITS = 2, 6, 7, 8, 9
MAX, MIN, BYTE_MIN, BYTE_MAX, COMPARE_AND_CLEAR = 12, 13, 16, 17, 20
ATOMIC_OPS = [ADD, BIT_AND, BIT_OR, BIT_XOR, APPEND_IF_FITS, MAX, MIN, BYTE_MIN, BYTE_MAX, COMPARE_AND_CLEAR]


def _fit(old, n):
    """The existing value zero-extended or truncated to n bytes."""
    return (old + b"\x00" * n)[:n]


def _le(b):
    return int.from_bytes(b, "little")


def apply_atomic(op, old, param):
    """The value after atomic `op` over `old` (None: absent); None = cleared/absent."""
    n = len(param)
    if op == ADD:
        base = _fit(old or b"", n)
        return ((_le(base) + _le(param)) % (1 << (8 * n))).to_bytes(n, "little") if n else b""
    if op in (BIT_AND, BIT_OR, BIT_XOR):
        if old is None:
            return param
        base = _fit(old, n)
        f = {BIT_AND: lambda a, b: a & b, BIT_OR: lambda a, b: a | b, BIT_XOR: lambda a, b: a ^ b}[op]
        return bytes(f(a, b) for a, b in zip(base, param))
    if op == APPEND_IF_FITS:
        if old is None:
            return param
        return old + param if len(old) + n <= VALUE_SIZE_LIMIT else old
    if op in (MAX, MIN):
        if old is None:
            return param
        base = _fit(old, n)
        bigger = _le(base) > _le(param)
        return base if bigger == (op == MAX) and _le(base) != _le(param) else param
    if op == BYTE_MIN:
        return param if old is None else min(old, param)
    if op == BYTE_MAX:
        return param if old is None else max(old, param)
    if op == COMPARE_AND_CLEAR:
        return None if old == param else old
    raise ValueError(op)


class TxModel:
    """A transaction over committed data `base`: its writes and its view."""

    def __init__(self, base):
        self.data = dict(base)

    def set(self, k, v):
        self.data[k] = v

    def clear(self, k):
        self.data.pop(k, None)

    def clear_range(self, b, e):
        for k in [k for k in self.data if b <= k < e]:
            del self.data[k]

    def atomic(self, op, k, param):
        r = apply_atomic(op, self.data.get(k), param)
        if r is None:
            self.data.pop(k, None)
        else:
            self.data[k] = r

    def get(self, k):
        return self.data.get(k)

    def keys(self):
        return sorted(self.data)

    def get_range(self, b, e, limit=0, reverse=False):
        rows = [(k, self.data[k]) for k in self.keys() if b <= k < e]
        if reverse:
            rows.reverse()
        return rows[:limit] if limit else rows

    def resolve(self, key, or_equal, offset, max_key=b"\xff"):
        """A key selector resolved as FoundationDB documents it."""
        keys = self.keys()
        start = bisect.bisect_right(keys, key) if or_equal else bisect.bisect_left(keys, key)
        i = start + offset - 1
        if i < 0:
            return b""
        if i >= len(keys):
            return max_key
        return keys[i]


def le64(n):
    return struct.pack("<q", n)
