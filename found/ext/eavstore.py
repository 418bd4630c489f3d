"""Entity-attribute-value store: dictionaries with an index on every
attribute-value pair.

Key layout, under the store's tuple ``prefix``::

    prefix + ("entity", uid)               -> b""             the entity exists
    prefix + ("entity", uid, key)          -> pack((value,))  one attribute
    prefix + ("index", key, value, uid)    -> b""             the reverse index

Keys, values and uids may be any value the tuple layer packs.  Values are
compared as the tuple layer encodes them: ``1``, ``1.0`` and ``True`` are three
different values, and a list reads back as a tuple.  Every write replaces a
whole entity and clears the index entries of the attributes it had, so a
query never returns an entity that no longer has that attribute-value.
"""

from collections.abc import Mapping
from typing import Any, AsyncIterator, ClassVar, Dict, Sequence, Tuple, Type
from uuid import uuid4

import found
from found import Transaction
from found.ext._store import KEY_LIMIT, VALUE_LIMIT, StoreHandle


class EAVStoreException(found.BaseFoundException):
    """Bad input to an eavstore (not a mapping, a key, value or uid the tuple
    layer cannot pack, too large) or an unknown uid."""


class EAVStore(StoreHandle):
    """Handle over an eavstore: ``name`` and ``prefix`` (a tuple).  Build
    with ``make``."""

    __slots__ = ("_entity", "_index")
    kind: ClassVar[str] = "eavstore"
    exception: ClassVar[Type[found.BaseFoundException]] = EAVStoreException

    _entity: bytes
    _index: bytes

    def __init__(self, name: str, prefix: Tuple[Any, ...], packed: bytes) -> None:
        super().__init__(name, prefix)
        self._entity = packed + found.pack(("entity",))
        self._index = packed + found.pack(("index",))


def make(name: str, prefix: Sequence[Any]) -> EAVStore:
    """Create a handle over an eavstore called ``name`` (a str, for
    debugging) keeping its keys under ``prefix`` (a tuple; a list is taken
    as one)."""
    return EAVStore.make(name, prefix)


def _pack_one(store, what, value):
    try:
        return found.pack((value,))
    except Exception as exc:  # the tuple layer raises several types
        raise EAVStoreException("{}: {} {!r} cannot be packed: {}".format(store.name, what, value, exc)) from exc


def _rows(store, packed_uid, mapping):
    """Every (key, value) to write for ``mapping``, all checked before any
    write happens."""
    if not isinstance(mapping, Mapping):
        raise EAVStoreException("{}: dict must be a mapping, got {}".format(store.name, type(mapping).__name__))
    rows = [(store._entity + packed_uid, b"")]
    for key, value in mapping.items():
        packed_key = _pack_one(store, "key", key)
        packed_value = _pack_one(store, "value of key {!r}".format(key), value)
        attribute = store._entity + packed_uid + packed_key
        index = store._index + packed_key + packed_value + packed_uid
        store.check_size("key {!r}".format(key), len(max(attribute, index, key=len)), KEY_LIMIT)
        store.check_size("value of key {!r}".format(key), len(packed_value), VALUE_LIMIT)
        rows.append((attribute, packed_value))
        rows.append((index, b""))
    return rows


async def _read(tx, store, packed_uid):
    """Return (exists, [(packed_key, packed_value)]) for one entity, in one
    range read (the marker sorts first)."""
    marker = store._entity + packed_uid
    exists = False
    attributes = []
    async for key, value in found.query(tx, marker, marker + b"\xff"):
        if key == marker:
            exists = True
        else:
            attributes.append((key[len(marker) :], value))
    return exists, attributes


async def _erase(tx, store, packed_uid, attributes):
    for packed_key, packed_value in attributes:
        await found.clear(tx, store._index + packed_key + packed_value + packed_uid)
    marker = store._entity + packed_uid
    await found.clear(tx, marker, marker + b"\xff")


async def _must_exist(tx, store, uid, packed_uid):
    exists, attributes = await _read(tx, store, packed_uid)
    if not exists:
        raise EAVStoreException("{}: no entity with uid={!r}".format(store.name, uid))
    return attributes


async def create(tx: Transaction, eavstore: EAVStore, dict: Mapping[Any, Any], uid: Any = None) -> Any:
    """Store the mapping ``dict`` and return its uid: ``uid`` when given
    (replacing the entity already there, if any), else a new uuid4."""
    if uid is None:
        uid = uuid4()
        existing = []
    else:
        existing = None
    packed_uid = _pack_one(eavstore, "uid", uid)
    rows = _rows(eavstore, packed_uid, dict)
    if existing is None:
        _, existing = await _read(tx, eavstore, packed_uid)
    await _erase(tx, eavstore, packed_uid, existing)
    for key, value in rows:
        await found.set(tx, key, value)
    return uid


async def get(tx: Transaction, eavstore: EAVStore, uid: Any) -> Dict[Any, Any]:
    """Return the dict stored under ``uid``, or an empty dict when there is
    none."""
    packed_uid = _pack_one(eavstore, "uid", uid)
    _, attributes = await _read(tx, eavstore, packed_uid)
    out = {}
    for packed_key, packed_value in attributes:
        (key,) = found.unpack(packed_key)
        (out[key],) = found.unpack(packed_value)
    return out


async def remove(tx: Transaction, eavstore: EAVStore, uid: Any) -> None:
    """Remove the entity ``uid`` and its index entries; raise
    EAVStoreException when there is none."""
    packed_uid = _pack_one(eavstore, "uid", uid)
    attributes = await _must_exist(tx, eavstore, uid, packed_uid)
    await _erase(tx, eavstore, packed_uid, attributes)


async def update(tx: Transaction, eavstore: EAVStore, uid: Any, dict: Mapping[Any, Any]) -> None:
    """Replace the entity ``uid`` with the mapping ``dict``; raise
    EAVStoreException when there is none."""
    packed_uid = _pack_one(eavstore, "uid", uid)
    rows = _rows(eavstore, packed_uid, dict)
    attributes = await _must_exist(tx, eavstore, uid, packed_uid)
    await _erase(tx, eavstore, packed_uid, attributes)
    for key, value in rows:
        await found.set(tx, key, value)


async def query(tx: Transaction, eavstore: EAVStore, key: Any, value: Any) -> AsyncIterator[Any]:
    """Yield the uid of every entity whose attribute ``key`` equals
    ``value`` (in the order of the uids' encodings), in one range read."""
    head = eavstore._index + _pack_one(eavstore, "key", key) + _pack_one(eavstore, "value", value)
    async for index, _ in found.query(tx, head + b"\x00", head + b"\xff"):
        (uid,) = found.unpack(index[len(head) :])
        yield uid
