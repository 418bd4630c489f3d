"""Generic n-tuple store with pattern-matching queries.

A store of width n keeps every tuple in C(n, n//2) indices, each one a
permutation of the columns.  A pattern binds some columns to values and leaves
the others as variables; the set of bound columns must be a prefix (in some
order) of one of the permutations, so that every pattern is answered by a
single ordered range read.  The smallest family of permutations with that
property has C(n, n//2) members: every permutation has exactly one prefix of
size n//2, and there are C(n, n//2) such subsets (Sperner), while a symmetric
chain decomposition of the boolean lattice reaches that bound (de Bruijn,
Tengbergen and Kruyswijk, 1951): each symmetric chain, completed into a
maximal chain, is one permutation.

Key layout, under the store's tuple ``prefix``::

    prefix + (index_number,) + items permuted by that index  ->  value

The helpers ``minimal_indices``, ``Variable``/``var``, ``substitute`` and
``plan`` are shared with ``found.ext.vnstore``.
"""

from collections.abc import Mapping, Sequence
from math import comb
from operator import itemgetter
from typing import (
    Any,
    AsyncIterable,
    AsyncIterator,
    Callable,
    ClassVar,
    Dict,
    FrozenSet,
    Iterable,
    List,
    Optional,
    Tuple,
    Type,
    Union,
)

import found
from found import Transaction
from found.ext._aiterate import aiterate
from found.ext._store import KEY_LIMIT, VALUE_LIMIT, StoreHandle

#: Widths beyond this would need tens of thousands of indices.
MAX_WIDTH = 16


class NStoreException(found.BaseFoundException):
    """Bad input to an nstore: wrong arity, an item the tuple layer cannot
    pack, a variable where a value is required, a value that is not bytes."""


class Variable:
    """A named hole in a pattern, bound to the value found at its position."""

    __slots__ = ("name",)

    name: str

    def __init__(self, name: str) -> None:
        if not isinstance(name, str):
            raise NStoreException("variable name must be str, got {}".format(type(name).__name__))
        self.name = name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Variable) and other.name == self.name

    def __hash__(self) -> int:
        return hash((Variable, self.name))

    def __repr__(self) -> str:
        return "var({!r})".format(self.name)


def var(name: str) -> Variable:
    """Create a variable called ``name`` (a str) for patterns of
    ``select``, ``where`` and ``query``."""
    return Variable(name)


# --- the index family -------------------------------------------------------


def _symmetric_chains(n):
    """Partition the subsets of range(n) into C(n, n//2) symmetric chains.

    Each chain is a list of frozensets, each one element larger than the
    previous.  Built one element at a time: every chain c0 < ... < ck of the
    smaller lattice yields c0 < ... < ck < ck+{e} and, when k > 0,
    c0+{e} < ... < c(k-1)+{e}.
    """
    chains = [[frozenset()]]
    for element in range(n):
        grown = []
        for chain in chains:
            grown.append(chain + [chain[-1] | {element}])
            if len(chain) > 1:
                grown.append([subset | {element} for subset in chain[:-1]])
        chains = grown
    return chains


def _chain_to_permutation(chain, n):
    """Complete a saturated chain into a column order whose prefixes
    include every subset of the chain."""
    order = sorted(chain[0])
    for smaller, larger in zip(chain, chain[1:]):
        (added,) = larger - smaller
        order.append(added)
    order.extend(sorted(set(range(n)) - chain[-1]))
    return tuple(order)


def minimal_indices(n: int) -> List[Tuple[int, ...]]:
    """Return the C(n, n//2) column permutations of a width-``n`` store: for
    any set of columns, some permutation starts with exactly those columns."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise NStoreException("n must be int, got {}".format(type(n).__name__))
    if not 1 <= n <= MAX_WIDTH:
        raise NStoreException("n must be between 1 and {}, got {}".format(MAX_WIDTH, n))
    indices = [_chain_to_permutation(chain, n) for chain in _symmetric_chains(n)]
    assert len(indices) == comb(n, n // 2)
    return indices


def _index_by_bound_columns(indices, n):
    """Map each frozenset of columns to the number of the first index
    that starts with those columns."""
    table = {}
    for number, order in enumerate(indices):
        for size in range(n + 1):
            table.setdefault(frozenset(order[:size]), number)
    assert len(table) == 2**n
    return table


# --- the store handle -------------------------------------------------------


class NStore(StoreHandle):
    """Handle over an nstore: ``name``, ``prefix`` (a tuple), ``n`` (width)
    and ``indices`` (the column permutations).  Build with ``make``."""

    __slots__ = ("n", "indices", "_by_bound", "_packed_prefix", "_heads", "_permute")
    kind: ClassVar[str] = "nstore"
    exception: ClassVar[Type[found.BaseFoundException]] = NStoreException

    n: int
    indices: List[Tuple[int, ...]]
    _by_bound: Dict[FrozenSet[int], int]
    _packed_prefix: bytes
    _heads: List[bytes]
    _permute: List[Callable[[Sequence[bytes]], Tuple[bytes, ...]]]

    def __init__(self, name: str, prefix: Tuple[Any, ...], packed: bytes, n: int) -> None:
        super().__init__(name, prefix)
        self.n = n
        self.indices = minimal_indices(n)
        self._by_bound = _index_by_bound_columns(self.indices, n)
        self._packed_prefix = packed
        # Precomputed because every add, remove and get builds these keys.
        self._heads = [self._packed_prefix + found.pack((number,)) for number in range(len(self.indices))]
        self._permute = [_permuter(order) for order in self.indices]

    def __repr__(self) -> str:
        return "<nstore {!r} prefix={!r} n={}>".format(self.name, self.prefix, self.n)

    def index_prefix(self, number: int) -> bytes:
        """Packed key prefix of index ``number``."""
        return self._heads[number]

    def range(self) -> Tuple[bytes, bytes]:
        """(begin, end) covering every key of this store."""
        return _subspace_range(self._packed_prefix)


def _permuter(order: Tuple[int, ...]) -> Callable[[Sequence[bytes]], Tuple[bytes, ...]]:
    """A function returning its argument's items in ``order``, as a tuple."""
    if len(order) == 1:
        (column,) = order
        return lambda items: (items[column],)
    return itemgetter(*order)


def _subspace_range(packed: bytes) -> Tuple[bytes, bytes]:
    """Keys strictly inside the tuple subspace ``packed``: the next byte is
    a type code, never 0xFF (which only escapes a NUL inside bytes/str)."""
    return packed + b"\x00", packed + b"\xff"


def make(name: str, prefix: Sequence[Any], n: int) -> NStore:
    """Create a handle over an nstore called ``name`` (a str, for debugging)
    keeping its keys under the tuple ``prefix``, holding tuples of ``n``
    items.  Keep the returned value: it carries the precomputed indices."""
    return NStore.make(name, prefix, n)


# --- packing and patterns ---------------------------------------------------


def _check_arity(nstore, items, what):
    if len(items) != nstore.n:
        raise NStoreException("{}: {} needs {} items, got {}".format(nstore.name, what, nstore.n, len(items)))


def _pack_item(nstore, position, item):
    if isinstance(item, Variable):
        raise NStoreException("{}: item {} is {!r}; a value is required here".format(nstore.name, position, item))
    try:
        return found.pack((item,))
    except Exception as exc:  # the tuple layer raises several types
        raise NStoreException(
            "{}: item {} ({!r}) cannot be packed: {}".format(nstore.name, position, item, exc)
        ) from exc


def _pack_items(nstore, items, what):
    _check_arity(nstore, items, what)
    return [_pack_item(nstore, position, item) for position, item in enumerate(items)]


def _key(nstore, packed_items, number):
    """The key of one tuple in index ``number``; a tuple's encoding is the
    concatenation of its elements' encodings."""
    return nstore._heads[number] + b"".join(nstore._permute[number](packed_items))


def _keys(nstore, packed_items, count=None):
    """The keys of one tuple in the first ``count`` indices (default: all),
    refused when over the key size limit (they all have the same length)."""
    numbers = range(len(nstore.indices) if count is None else count)
    keys = [_key(nstore, packed_items, number) for number in numbers]
    nstore.check_size("the key these items make", len(keys[0]), KEY_LIMIT)
    return keys


def substitute(pattern: Sequence[Any], bindings: Mapping[str, Any]) -> Tuple[Any, ...]:
    """Replace each variable of ``pattern`` bound in ``bindings`` by its value."""
    out = []
    for item in pattern:
        if isinstance(item, Variable) and item.name in bindings:
            out.append(bindings[item.name])
        else:
            out.append(item)
    return tuple(out)


class Plan:
    """How to answer one pattern: the range ``[begin, end)`` of one index,
    in index order the (column, variable name) pairs that the keys' tails
    bind, and ``skip``, the length of the keys' common head."""

    __slots__ = ("begin", "end", "free", "skip", "names", "repeated")

    begin: bytes
    end: bytes
    free: Tuple[Tuple[int, str], ...]
    skip: int
    names: Tuple[str, ...]
    repeated: bool

    def __init__(self, begin: bytes, end: bytes, free: Tuple[Tuple[int, str], ...], skip: int) -> None:
        self.begin = begin
        self.end = end
        self.free = free
        self.skip = skip
        self.names = tuple(name for _, name in free)
        self.repeated = len(set(self.names)) != len(self.names)


def _pack_values(nstore, pattern, columns):
    """The concatenated encodings of ``pattern``'s values at ``columns``."""
    try:
        return found.pack(tuple(pattern[c] for c in columns))
    except Exception:  # find the culprit for the message
        return b"".join(_pack_item(nstore, c, pattern[c]) for c in columns)


def plan(nstore: NStore, pattern: Sequence[Any]) -> Plan:
    """Choose the index for ``pattern`` (values and variables) and the range
    to read in it."""
    _check_arity(nstore, pattern, "a pattern")
    bound = frozenset(c for c, item in enumerate(pattern) if not isinstance(item, Variable))
    number = nstore._by_bound[bound]
    order = nstore.indices[number]
    packed = nstore._heads[number] + _pack_values(nstore, pattern, order[: len(bound)])
    free = tuple((c, pattern[c].name) for c in order[len(bound) :])
    if free:
        begin, end = _subspace_range(packed)
    else:
        begin, end = packed, packed + b"\x00"
    return Plan(begin, end, free, len(packed))


def bind(plan_: Plan, tail: Sequence[Any], bindings: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
    """Extend ``bindings`` with the values of a key's unbound ``tail``
    (already unpacked); None when a repeated variable disagrees."""
    out = dict(bindings)
    fresh = {}
    for (_, name), value in zip(plan_.free, tail):
        if name in fresh:
            if found.pack((fresh[name],)) != found.pack((value,)):
                return None
        else:
            fresh[name] = value
    out.update(fresh)
    return out


# --- operations -------------------------------------------------------------


def _check_value(nstore, value):
    if isinstance(value, (bytearray, memoryview)):
        value = bytes(value)
    if not isinstance(value, bytes):
        raise NStoreException("{}: value must be bytes, got {}".format(nstore.name, type(value).__name__))
    nstore.check_size("value", len(value), VALUE_LIMIT)
    return value


async def add(tx: Transaction, nstore: NStore, *items: Any, value: bytes = b"") -> None:
    """Add the tuple ``items`` to ``nstore`` with ``value`` (bytes),
    replacing the value of an existing equal tuple."""
    value = _check_value(nstore, value)
    keys = _keys(nstore, _pack_items(nstore, items, "add"))
    for key in keys:
        await found.set(tx, key, value)


async def remove(tx: Transaction, nstore: NStore, *items: Any) -> None:
    """Remove the tuple ``items`` (and its value) from ``nstore``; removing
    an absent tuple does nothing."""
    keys = _keys(nstore, _pack_items(nstore, items, "remove"))
    for key in keys:
        await found.clear(tx, key)


async def get(tx: Transaction, nstore: NStore, *items: Any) -> Optional[bytes]:
    """Return the value (bytes) of the tuple ``items``, or None when the
    tuple is not in ``nstore``."""
    (key,) = _keys(nstore, _pack_items(nstore, items, "get"), 1)
    return await found.get(tx, key)


async def select(
    tx: Transaction, nstore: NStore, *pattern: Any, seed: Optional[Mapping[str, Any]] = None
) -> AsyncIterator[Dict[str, Any]]:
    """Yield a dict of bindings for every tuple matching ``pattern``.

    Each element of ``pattern`` is a value or a ``var``; variables already
    bound in the mapping ``seed`` are replaced by their value first, and the
    yielded dicts extend ``seed``.  A variable repeated in the pattern
    matches only equal values.  Exactly one range read is issued.
    """
    if seed is None:
        seed = {}
    elif not isinstance(seed, Mapping):
        raise NStoreException("seed must be a mapping, got {}".format(type(seed).__name__))
    plan_ = plan(nstore, substitute(pattern, seed) if seed else pattern)
    skip, names, unpack = plan_.skip, plan_.names, found.unpack
    if plan_.repeated:
        async for key, _ in found.query(tx, plan_.begin, plan_.end):
            binding = bind(plan_, unpack(key[skip:]), seed)
            if binding is not None:
                yield binding
    elif seed:
        async for key, _ in found.query(tx, plan_.begin, plan_.end):
            binding = dict(seed)
            binding.update(zip(names, unpack(key[skip:])))
            yield binding
    else:
        async for key, _ in found.query(tx, plan_.begin, plan_.end):
            yield dict(zip(names, unpack(key[skip:])))


async def where(
    tx: Transaction,
    nstore: NStore,
    iterator: Union[AsyncIterable[Mapping[str, Any]], Iterable[Mapping[str, Any]]],
    *pattern: Any,
) -> AsyncIterator[Dict[str, Any]]:
    """For each bindings from ``iterator`` (async or plain iterable of
    mappings), yield the extended bindings where ``pattern`` matches."""
    async for bindings in aiterate(iterator):
        async for binding in select(tx, nstore, *pattern, seed=bindings):
            yield binding


def query(
    tx: Transaction, nstore: NStore, pattern: Sequence[Any], *patterns: Sequence[Any]
) -> AsyncIterator[Dict[str, Any]]:
    """Yield the bindings satisfying ``pattern`` and every one of
    ``patterns`` (sequences of values and variables), joined on shared
    variables: select on the first, then where on each next one."""
    for one in (pattern,) + patterns:
        if isinstance(one, (str, bytes)) or not isinstance(one, Sequence):
            raise NStoreException(
                "{}: each pattern must be a tuple or list, got {}".format(nstore.name, type(one).__name__)
            )
    out = select(tx, nstore, *pattern)
    for one in patterns:
        out = where(tx, nstore, out, *one)
    return out
