"""Tuple: random tuples of every supported type. found.pack must equal the
official fdb.tuple.pack byte for byte, found.unpack must invert it, the byte
order of packed tuples must follow fdb.tuple.compare, and the database must
return packed keys in that order."""

import ctypes
import math
import sys
import uuid

import fdb.tuple as reference

import found
from found import tuple as found_tuple
from simulation.workloads.base import Workload, read_range

PER_STEP = 8


class Tuple(Workload):
    name = "tuple"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.steps = 0
        self.versionstamps = _reference_packs_versionstamps()

    async def step(self):
        self.steps += 1
        values = [random_tuple(self.rng, self.versionstamps) for _ in range(PER_STEP)]
        packed = [self._check_codec(value) for value in values]
        self._check_order(values, packed)
        if self.steps % 4 == 0:
            await self._check_database_order(values, packed)
        return {"op": "tuples", "packed": [p.hex() for p in packed]}

    def _check_codec(self, value):
        expected = reference.pack(value)
        got = found.pack(value)
        if got != expected:
            self.violation("pack(%r) = %s, fdb.tuple.pack gives %s" % (value, got.hex(), expected.hex()))
        back = found.unpack(expected)
        if found.pack(back) != expected or reference.compare(to_reference(back), value) != 0:
            self.violation("unpack(%s) = %r, expected %r" % (expected.hex(), back, value))
        return expected

    def _check_order(self, values, packed):
        for i in range(len(values) - 1):
            a, b = values[i], values[i + 1]
            byte_order = (packed[i] > packed[i + 1]) - (packed[i] < packed[i + 1])
            if byte_order != _sign(reference.compare(a, b)):
                self.violation(
                    "order: %r vs %r compares %d but packs as %d" % (a, b, reference.compare(a, b), byte_order)
                )

    async def _check_database_order(self, values, packed):
        prefix = self.key("k", *self.tag, self.steps)

        async def write(tx):
            for data in packed:
                await found.set(tx, prefix + data, data)

        async def clear(tx):
            await found.clear(tx, prefix, found.next_prefix(prefix))

        # Three transactions: a read that also cleared would, retried after
        # an ambiguous commit that did apply, find nothing.
        await self.transact(write)
        pairs = await self.transact(read_range, prefix)
        await self.transact(clear)
        expected = sorted(set(packed))
        got = [key[len(prefix) :] for key, _ in pairs]
        if got != expected:
            self.violation(
                "database returned packed tuples in the order %s, expected %s"
                % ([g.hex() for g in got], [e.hex() for e in expected])
            )
        for key, value in pairs:
            if value != key[len(prefix) :]:
                self.violation("value under %s read back as %s" % (key.hex(), value.hex()))


def _sign(n):
    return (n > 0) - (n < 0)


def to_reference(value):
    """found's tuple-layer objects as the official binding's, for fdb.tuple.compare."""
    if isinstance(value, tuple):
        return tuple(to_reference(v) for v in value)
    if isinstance(value, found_tuple.SingleFloat):
        return reference.SingleFloat(value.value)
    if isinstance(value, found_tuple.Versionstamp):
        return reference.Versionstamp(value.tr_version, value.user_version)
    return value


_INT_EDGES = (0, 1, -1, 255, 256, -255, -256, 2**63 - 1, -(2**63), 2**64 - 1, -(2**64) + 1, 2**64, -(2**64))


def random_element(rng, versionstamps=True, depth=0):
    """One random tuple element of any supported type."""
    kind = rng.randrange(12 if depth < 2 else 11)
    if kind == 9 and not versionstamps:
        kind = 10
    if kind == 0:
        return None
    if kind == 1:
        return rng.random() < 0.5
    if kind == 2:
        return rng.choice(_INT_EDGES) + rng.randint(-2, 2)
    if kind == 3:
        return rng.randint(-(2 ** rng.randint(1, 400)), 2 ** rng.randint(1, 400))
    if kind == 4:
        return rng.choice((0.0, -0.0, math.inf, -math.inf, math.nan, 1e-310, rng.uniform(-1e6, 1e6)))
    if kind == 5:
        return reference.SingleFloat(rng.choice((0.0, -1.5, 3.25, math.inf, rng.uniform(-100, 100))))
    if kind == 6:
        return bytes(rng.choice((0, 1, 0xFE, 0xFF, rng.randrange(256))) for _ in range(rng.randrange(6)))
    if kind == 7:
        return "".join(
            rng.choice(("a", "z", "\x00", "é", "\u20ac", "\U0001f600", "\xff")) for _ in range(rng.randrange(5))
        )
    if kind == 8:
        return uuid.UUID(int=rng.getrandbits(128))
    if kind == 9:
        return reference.Versionstamp(rng.randbytes(10), rng.randrange(65536))
    if kind == 10:
        return rng.choice(("", b"", 0, "a", b"a"))
    return tuple(random_element(rng, versionstamps, depth + 1) for _ in range(rng.randrange(4)))


def random_tuple(rng, versionstamps=True):
    """A random tuple of 0-4 elements; one in four shares a prefix with a
    fixed tuple so that order checks compare close neighbours too."""
    value = tuple(random_element(rng, versionstamps) for _ in range(rng.randrange(5)))
    if rng.random() < 0.25:
        value = ("shared", 1) + value
    return value


def _reference_packs_versionstamps():
    """fdb.tuple packs a Versionstamp only once fdb.impl is importable, and
    that import loads libfdb_c: make it find the library found already
    loaded (the engine's SONAME is libfdb_c.so). Without it, Versionstamps
    are left out of the comparison."""
    if "fdb.impl" in sys.modules:
        return True
    try:
        from found import _library

        loaded = _library.library()
        if loaded:
            ctypes.CDLL(loaded[1], mode=ctypes.RTLD_GLOBAL)
        import fdb.impl  # noqa: F401
    except Exception:  # any failure only narrows the comparison
        return False
    return True
