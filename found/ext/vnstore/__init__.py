"""Versioned N-tuple store: tuples are added and removed by changes.

A change is a named batch of tuple additions and removals. It is invisible to
readers until it is applied; applying it gives it a *significance*, the
versionstamp of the committing transaction, which is its place in history.
Readers see, for each tuple, the state set by the applied change with the
greatest significance that touched it.

``change_apply`` refuses (``ChangeConflict``) a change when another change that
touches one of the same tuples was applied after the change was started (its
``change_create`` committed). docs/vnstore.md states the guarantee.

Layout under ``prefix`` (every key is a packed tuple)::

    (*prefix, "change", uid, "type")          -> ("change",)
    (*prefix, "change", uid, "message")       -> (message,)
    (*prefix, "_stamp", uid, "started")       -> (Versionstamp,)  create commit
    (*prefix, "_stamp", uid, "significance")  -> (Versionstamp,)  apply commit
    (*prefix, "applied", Versionstamp)        -> (uid,)            history order
    nstore (*prefix, "tuples"): (*items, changeid, alive)  every change's edits
    nstore (*prefix, "alive"):  (*items)                   alive tuples
    (*prefix, "version")                      -> 8-byte little-endian counter

The version counter is added to (an atomic add, so writers do not conflict
on it) by every transaction that writes the store; ``version`` reads it, and
a reader that kept something computed from the store (vnstore's web UI keeps
rendered pages) knows it is still current while the counter is unchanged.

Each change holds at most one record per tuple: ``alive`` True when the change
makes the tuple present, False when it makes it absent. change_apply copies
its records into the index of alive tuples; since applies commit in
significance order, that index holds, for each tuple, the state set by the
latest applied change that touched it, and readers use it directly.
"""

import asyncio
import types
import uuid
from typing import (
    Any,
    AsyncIterable,
    AsyncIterator,
    Dict,
    Generator,
    Iterable,
    List,
    Mapping,
    NamedTuple,
    Optional,
    Sequence,
    Tuple,
)

import found
from found import Transaction
from found.ext import nstore
from found.ext.nstore import Variable as _Variable
from found.ext.nstore import var

__all__ = [
    "VNStoreException",
    "ChangeNotFound",
    "ChangeApplied",
    "ChangeConflict",
    "NoActiveChange",
    "make",
    "change_create",
    "change_list",
    "change_get",
    "change_continue",
    "change_message",
    "change_changes",
    "change_apply",
    "change_discard",
    "change_rename",
    "version",
    "add",
    "remove",
    "ask",
    "select",
    "where",
    "query",
    "var",
]


# Names of the two extra columns of the tuples nstore, used as variable names
# in internal patterns; user patterns may not use them.
_CHANGE = "__vnstore_change__"
_ALIVE = "__vnstore_alive__"
ALIVE = "alive?"

# Per-transaction bookkeeping in tx.vars (cleared by found.transactional on retry).
_ACTIVE = "_vnstore_changeid"
_CREATED = "_vnstore_created"  # changes created by this transaction
_APPLIED = "_vnstore_applied"  # changes applied by this transaction: uid -> order
_EDITABLE = "_vnstore_editable"  # changes checked as existing and pending
_SIGNIFICANCE = "_vnstore_significance"  # uid -> significance or None (cache)
_STAMPS = "_vnstore_stamps"  # user versions handed out in this transaction
_TOUCHED = "_vnstore_touched"  # the version counter is already added to


class VNStoreException(found.BaseFoundException):
    """Exception specific to vnstore."""


class ChangeNotFound(VNStoreException):
    """The change does not exist in this vnstore."""


class ChangeApplied(VNStoreException):
    """The change is already applied: history cannot be edited."""


class NoActiveChange(VNStoreException):
    """add or remove without an active change (see change_continue)."""


class ChangeConflict(VNStoreException):
    """Another change applied after this one started touched the same tuples.

    ``changeid`` is the refused change; ``conflicts`` is a list of
    ``(items, other_changeid)`` pairs, one per tuple and conflicting change.
    """

    changeid: uuid.UUID
    conflicts: List[Tuple[Tuple[Any, ...], uuid.UUID]]

    def __init__(self, changeid: uuid.UUID, conflicts: Iterable[Tuple[Tuple[Any, ...], uuid.UUID]]) -> None:
        self.changeid = changeid
        self.conflicts = list(conflicts)
        others = sorted({other.hex for _, other in self.conflicts})
        super().__init__(
            "change {} conflicts on {} tuple(s) with change(s) applied after it started: {}".format(
                changeid.hex, len({items for items, _ in self.conflicts}), ", ".join(others)
            )
        )


class VNStore(NamedTuple):
    """Handle over a vnstore: ``name``, ``prefix`` (a tuple), the column names
    ``items``, and the two nstores it keeps (every recorded edit, and the
    alive tuples).  Build with ``make``."""

    name: str
    prefix: Tuple[Any, ...]
    items: Tuple[str, ...]
    tuples: nstore.NStore
    alive: nstore.NStore


#: A change as change_get and change_list return it.
Change = Dict[str, Any]


def make(name: str, prefix: Sequence[Any], items: Sequence[str]) -> VNStore:
    """Create a handle over a vnstore called ``name`` with the tuple ``prefix``
    and the column names ``items``."""
    if not isinstance(name, str):
        raise TypeError("name must be str, not {}".format(type(name).__name__))
    if not isinstance(prefix, (tuple, list)):
        raise TypeError("prefix must be a tuple or list, not {}".format(type(prefix).__name__))
    if not isinstance(items, (tuple, list)):
        raise TypeError("items must be a tuple or list, not {}".format(type(items).__name__))
    items = tuple(items)
    if not items:
        raise ValueError("items must name at least one column")
    for column in items:
        if not isinstance(column, str):
            raise TypeError("items must be column names (str), got {}".format(type(column).__name__))
    if len(set(items)) != len(items):
        raise ValueError("items must be distinct column names, got {!r}".format(items))
    if ALIVE in items:
        raise ValueError("{!r} is reserved and cannot name a column".format(ALIVE))
    prefix = tuple(prefix)
    tuples = nstore.make("{}-tuples".format(name), prefix + ("tuples",), len(items) + 2)
    alive = nstore.make("{}-alive".format(name), prefix + ("alive",), len(items))
    return VNStore(name, prefix, items, tuples, alive)


# --- keys -------------------------------------------------------------------


def _change_key(store, changeid, field):
    return found.pack(store.prefix + ("change", changeid, field))


# Versionstamped values cannot be read by the transaction that wrote them;
# their subspace sorts before the others ("_" < "a") so that range reads of the
# other subspaces in that transaction stay clear of them (the embedded engine
# refuses a range read when such a key lies just past the range's end).
_STAMP = "_stamp"


def _stamp_key(store, changeid, field):
    return found.pack(store.prefix + (_STAMP, changeid, field))


def _subspace(store, name):
    start = found.pack(store.prefix + (name,))
    return start, found.next_prefix(start)


def _version_key(store):
    return found.pack(store.prefix + ("version",))


_ONE = (1).to_bytes(8, "little")


async def _touch(tr, store):
    """Count this transaction as a write of ``store`` (once per transaction)."""
    if not tr.vars.get(_TOUCHED):
        tr.vars[_TOUCHED] = True
        await found.add(tr, _version_key(store), _ONE)


async def version(tr: Transaction, vnstore: VNStore) -> int:
    """The store's version counter: every transaction that writes the store
    (creates, edits, renames, discards or applies a change) increases it, so
    while it is unchanged, so is everything the store's readers can see.
    0 for a store never written."""
    _check_store(vnstore)
    value = await found.get(tr, _version_key(vnstore))
    return 0 if value is None else int.from_bytes(value, "little")


def _vars(tr, name, factory):
    out = tr.vars.get(name)
    if out is None:
        out = tr.vars[name] = factory()
    return out


def _next_stamp(tr):
    """An incomplete versionstamp unique within this transaction: two changes
    created or applied by one transaction still get distinct, ordered stamps."""
    counter = _vars(tr, _STAMPS, lambda: [0])
    counter[0] += 1
    return found.Versionstamp(user_version=counter[0])


async def _set_stamp(tr, key):
    """Store at ``key`` the versionstamp of this transaction's commit."""
    value = found.pack_with_versionstamp((_next_stamp(tr),))
    await found.set_versionstamped_value(tr, key, value)


# --- checks -----------------------------------------------------------------


def _check_store(store):
    if not isinstance(store, VNStore):
        raise TypeError("vnstore must be made by vnstore.make, not {}".format(type(store).__name__))


def _check_changeid(changeid):
    if not isinstance(changeid, uuid.UUID):
        raise TypeError("changeid must be uuid.UUID, not {}".format(type(changeid).__name__))


def _check_items(store, items, what="items"):
    if len(items) != len(store.items):
        raise ValueError(
            "vnstore {!r} has {} columns {}, got {} {}".format(
                store.name, len(store.items), store.items, len(items), what
            )
        )


def _check_pattern(store, pattern):
    _check_items(store, pattern, "pattern elements")
    for item in pattern:
        if isinstance(item, _Variable) and item.name in (_CHANGE, _ALIVE):
            raise ValueError("variable name {!r} is reserved by vnstore".format(item.name))


# --- changes ----------------------------------------------------------------


async def change_create(tr: Transaction, vnstore: VNStore) -> uuid.UUID:
    """Create a change and return its uid (a uuid.UUID). It is pending: its
    significance is None and nobody sees its tuples until change_apply. The
    new change becomes the transaction's active change."""
    _check_store(vnstore)
    changeid = uuid.uuid4()
    await found.set(tr, _change_key(vnstore, changeid, "type"), found.pack(("change",)))
    await found.set(tr, _change_key(vnstore, changeid, "message"), found.pack((None,)))
    await _touch(tr, vnstore)  # after found.set, which names a tr that is no transaction
    await _set_stamp(tr, _stamp_key(vnstore, changeid, "started"))
    _vars(tr, _CREATED, set).add(changeid)
    _vars(tr, _EDITABLE, set).add(changeid)
    tr.vars[_ACTIVE] = changeid
    return changeid


def _unpack_one(value):
    return None if value is None else found.unpack(value)[0]


async def _read_stamp(tr, vnstore, changeid, field):
    """The versionstamp ``field`` of a change; an incomplete Versionstamp when
    this transaction wrote it (it is known only at commit)."""
    if field == "started" and changeid in tr.vars.get(_CREATED, ()):
        return found.Versionstamp()
    if field == "significance" and changeid in tr.vars.get(_APPLIED, {}):
        return found.Versionstamp()
    return _unpack_one(await found.get(tr, _stamp_key(vnstore, changeid, field)))


def _change_dict(changeid, kind, message, started, significance):
    return {
        "uid": changeid,
        "type": kind,
        "significance": significance,
        "message": message,
        "started": started,
    }


async def change_get(tr: Transaction, vnstore: VNStore, changeid: uuid.UUID) -> Optional[Change]:
    """Return the change ``changeid`` as a dict with keys uid, type,
    significance (None while pending, else the apply commit's Versionstamp),
    message and started (the create commit's Versionstamp); None if there is
    no such change."""
    _check_store(vnstore)
    _check_changeid(changeid)
    kind, message, started, significance = await asyncio.gather(
        found.get(tr, _change_key(vnstore, changeid, "type")),
        found.get(tr, _change_key(vnstore, changeid, "message")),
        _read_stamp(tr, vnstore, changeid, "started"),
        _read_stamp(tr, vnstore, changeid, "significance"),
    )
    if kind is None:
        return None
    return _change_dict(changeid, _unpack_one(kind), _unpack_one(message), started, significance)


async def _range(tr, begin, end):
    return await found.all(found.query(tr, begin, end))


def _fields_by_change(pairs, prefix_length):
    """Group (key, value) pairs of a (..., uid, field) subspace by uid."""
    out = {}
    for key, value in pairs:
        changeid, field = found.unpack(key)[prefix_length:]
        out.setdefault(changeid, {})[field] = _unpack_one(value)
    return out


async def _all_stamps(tr, vnstore):
    """uid -> {"started": ..., "significance": ...} for every change."""
    written_here = tr.vars.get(_CREATED) or tr.vars.get(_APPLIED)
    if written_here:
        # A range read would touch keys this transaction versionstamped,
        # which cannot be read before commit: read the others one by one.
        return None
    pairs = await _range(tr, *_subspace(vnstore, _STAMP))
    return _fields_by_change(pairs, len(vnstore.prefix) + 1)


def _history_order(change):
    significance = change["significance"]
    if significance is not None:
        return (0, significance, change["uid"].bytes)
    return (1, change["started"] or found.Versionstamp(), change["uid"].bytes)


async def change_list(tr: Transaction, vnstore: VNStore) -> List[Change]:
    """Return every change of ``vnstore`` as dicts (see change_get): applied
    changes first, in history (significance) order, then pending ones in the
    order they were created."""
    _check_store(vnstore)
    plain = await _range(tr, *_subspace(vnstore, "change"))
    fields = _fields_by_change(plain, len(vnstore.prefix) + 1)
    stamps = await _all_stamps(tr, vnstore)
    out = []
    for changeid, row in fields.items():
        if stamps is None:
            started, significance = await asyncio.gather(
                _read_stamp(tr, vnstore, changeid, "started"),
                _read_stamp(tr, vnstore, changeid, "significance"),
            )
        else:
            started = stamps.get(changeid, {}).get("started")
            significance = stamps.get(changeid, {}).get("significance")
        out.append(_change_dict(changeid, row.get("type"), row.get("message"), started, significance))
    out.sort(key=_history_order)
    return out


def change_continue(tr: Transaction, vnstore: VNStore, changeid: uuid.UUID) -> None:
    """Make ``changeid`` the active change of transaction ``tr``: the next
    add and remove calls on ``tr`` record into it."""
    _check_store(vnstore)
    _check_changeid(changeid)
    tr.vars[_ACTIVE] = changeid


async def _status(tr, vnstore, changeid):
    """ "missing", "pending" or "applied"."""
    if changeid in tr.vars.get(_APPLIED, {}):
        return "applied"
    if changeid in tr.vars.get(_CREATED, ()):
        return "pending"
    kind, significance = await asyncio.gather(
        found.get(tr, _change_key(vnstore, changeid, "type")),
        found.get(tr, _stamp_key(vnstore, changeid, "significance")),
    )
    if kind is None:
        return "missing"
    return "pending" if significance is None else "applied"


async def _require_pending(tr, vnstore, changeid):
    """Raise unless ``changeid`` exists and is pending (editable)."""
    if changeid in tr.vars.get(_EDITABLE, ()) and changeid not in tr.vars.get(_APPLIED, {}):
        return
    status = await _status(tr, vnstore, changeid)
    if status == "missing":
        raise ChangeNotFound("no change {} in vnstore {!r}".format(changeid.hex, vnstore.name))
    if status == "applied":
        raise ChangeApplied("change {} is already applied and cannot be edited".format(changeid.hex))
    _vars(tr, _EDITABLE, set).add(changeid)


async def change_message(tr: Transaction, vnstore: VNStore, changeid: uuid.UUID, message: Optional[str]) -> None:
    """Replace the message of ``changeid`` with ``message`` (str or None).
    The message of an applied change may still be edited."""
    _check_store(vnstore)
    _check_changeid(changeid)
    if message is not None and not isinstance(message, str):
        raise TypeError("message must be str or None, not {}".format(type(message).__name__))
    if await _status(tr, vnstore, changeid) == "missing":
        raise ChangeNotFound("no change {} in vnstore {!r}".format(changeid.hex, vnstore.name))
    await _touch(tr, vnstore)
    await found.set(tr, _change_key(vnstore, changeid, "message"), found.pack((message,)))


async def change_changes(tr: Transaction, vnstore: VNStore, changeid: uuid.UUID) -> List[Dict[str, Any]]:
    """Return the tuple modifications recorded by ``changeid``: a list of
    dicts mapping each column name to its value, and "alive?" to True for an
    addition, False for a removal."""
    _check_store(vnstore)
    _check_changeid(changeid)
    pattern = [nstore.var(column) for column in vnstore.items]
    pattern += [changeid, nstore.var(ALIVE)]
    out = []
    async for binding in nstore.select(tr, vnstore.tuples, *pattern):
        row = {column: binding[column] for column in vnstore.items}
        row[ALIVE] = binding[ALIVE]
        out.append(row)
    return out


# --- discarding and renaming a pending change ----------------------------------


async def change_discard(tr: Transaction, vnstore: VNStore, changeid: uuid.UUID) -> None:
    """Discard the pending change ``changeid``: its message, its edits and
    the change itself are gone, as if it had never been created. Raises
    ChangeNotFound if there is no such change, ChangeApplied if it is
    applied (history is not edited)."""
    _check_store(vnstore)
    _check_changeid(changeid)
    await _require_pending(tr, vnstore, changeid)
    await _touch(tr, vnstore)
    for row in await change_changes(tr, vnstore, changeid):
        items = tuple(row[column] for column in vnstore.items)
        await nstore.remove(tr, vnstore.tuples, *items, changeid, row[ALIVE])
    for field in ("type", "message"):
        await found.clear(tr, _change_key(vnstore, changeid, field))
    await found.clear(tr, _stamp_key(vnstore, changeid, "started"))
    for name in (_CREATED, _EDITABLE):
        tr.vars.get(name, set()).discard(changeid)
    tr.vars.get(_SIGNIFICANCE, {}).pop(changeid, None)
    if tr.vars.get(_ACTIVE) == changeid:
        del tr.vars[_ACTIVE]


async def change_rename(tr: Transaction, vnstore: VNStore, changeid: uuid.UUID, message: str) -> None:
    """Give the pending change ``changeid`` a new ``message`` (a non-empty
    str). Unlike change_message, which also edits an applied change's
    message, it refuses an applied change with ChangeApplied; ChangeNotFound
    if there is no such change."""
    _check_store(vnstore)
    _check_changeid(changeid)
    if not isinstance(message, str):
        raise TypeError("message must be str, not {}".format(type(message).__name__))
    if not message.strip():
        raise ValueError("message must not be empty")
    await _require_pending(tr, vnstore, changeid)
    await _touch(tr, vnstore)
    await found.set(tr, _change_key(vnstore, changeid, "message"), found.pack((message,)))


# --- reading -------------------------------------------------------------------


async def _significance(tr, vnstore, changeid):
    """The order of ``changeid`` in history, None while pending. Cached per
    transaction; a change applied by this transaction comes after every
    committed one (it commits later than all of them)."""
    applied_here = tr.vars.get(_APPLIED, {})
    if changeid in applied_here:
        return applied_here[changeid]
    cache = _vars(tr, _SIGNIFICANCE, dict)
    if changeid not in cache:
        stamp = _unpack_one(await found.get(tr, _stamp_key(vnstore, changeid, "significance")))
        cache[changeid] = None if stamp is None else (0, stamp.tr_version, stamp.user_version)
    return cache[changeid]


async def _pending_active(tr, vnstore):
    """The transaction's active change if it is pending (its edits overlay
    what the transaction reads), else None."""
    active = tr.vars.get(_ACTIVE)
    if active is None or await _significance(tr, vnstore, active) is not None:
        return None
    return active


async def _has(tr, store, *items):
    return await nstore.get(tr, store, *items) is not None


async def _own_record(tr, vnstore, changeid, items):
    """True / False when ``changeid`` adds / removes ``items``, None if it
    does not touch them."""
    if await _has(tr, vnstore.tuples, *items, changeid, True):
        return True
    if await _has(tr, vnstore.tuples, *items, changeid, False):
        return False
    return None


async def ask(tr: Transaction, vnstore: VNStore, *items: Any) -> bool:
    """Return True if ``items`` is alive in ``vnstore``: added by the latest
    applied change that touched it (or by the transaction's active pending
    change, which sees its own edits)."""
    _check_store(vnstore)
    _check_items(vnstore, items)
    active = await _pending_active(tr, vnstore)
    if active is not None:
        own = await _own_record(tr, vnstore, active, items)
        if own is not None:
            return own
    return await _has(tr, vnstore.alive, *items)


# --- editing a change ---------------------------------------------------------


async def _active_change(tr, vnstore):
    changeid = tr.vars.get(_ACTIVE)
    if changeid is None:
        raise NoActiveChange("no active change: call change_create or change_continue first")
    await _require_pending(tr, vnstore, changeid)
    return changeid


async def add(tr: Transaction, vnstore: VNStore, *items: Any, value: bytes = b"") -> bool:
    """Add ``items`` to ``vnstore`` in the active change (see
    change_continue). Returns True."""
    _check_store(vnstore)
    _check_items(vnstore, items)
    changeid = await _active_change(tr, vnstore)
    await _touch(tr, vnstore)
    await nstore.remove(tr, vnstore.tuples, *items, changeid, False)
    await nstore.add(tr, vnstore.tuples, *items, changeid, True, value=value)
    return True


async def remove(tr: Transaction, vnstore: VNStore, *items: Any) -> bool:
    """Remove ``items`` from ``vnstore`` in the active change. Returns True
    if ``items`` was alive (for this change) and is now removed, else False."""
    _check_store(vnstore)
    _check_items(vnstore, items)
    changeid = await _active_change(tr, vnstore)
    own = await _own_record(tr, vnstore, changeid, items)
    in_history = await _has(tr, vnstore.alive, *items)
    if not (own if own is not None else in_history):
        return False
    await _touch(tr, vnstore)
    await nstore.remove(tr, vnstore.tuples, *items, changeid, True)
    if in_history:
        # Alive in history: record the removal. Otherwise the tuple existed
        # only in this change, and dropping its addition is enough.
        await nstore.add(tr, vnstore.tuples, *items, changeid, False)
    return True


# --- applying -------------------------------------------------------------------


async def _others(tr, vnstore, changeid, items):
    """The changes other than ``changeid`` that touched ``items``."""
    pattern = list(items) + [nstore.var(_CHANGE), nstore.var(_ALIVE)]
    return [
        binding[_CHANGE]
        async for binding in nstore.select(tr, vnstore.tuples, *pattern)
        if binding[_CHANGE] != changeid
    ]


async def _conflicts(tr, vnstore, changeid, edits):
    """(items, other) pairs where ``other`` touched a tuple of ``edits``
    and was applied after ``changeid`` started."""
    if changeid in tr.vars.get(_CREATED, ()):
        # Created by this very transaction: nothing committed after its start
        # can be seen here, and concurrent commits make this one retry.
        return []
    started = await _read_stamp(tr, vnstore, changeid, "started")
    started = (0, started.tr_version, started.user_version)
    out = []
    for items, _ in edits:
        for other in await _others(tr, vnstore, changeid, items):
            order = await _significance(tr, vnstore, other)
            if order is not None and order > started:
                out.append((items, other))
    return out


async def change_apply(tr: Transaction, vnstore: VNStore, changeid: uuid.UUID) -> None:
    """Apply ``changeid``: its significance becomes the versionstamp of this
    transaction's commit, which places it after every change applied before.

    Raises ChangeConflict, leaving the change pending, when another change
    touching one of its tuples was applied after ``changeid`` started (its
    change_create committed); ChangeNotFound when there is no such change.
    Applying an applied change does nothing.
    """
    _check_store(vnstore)
    _check_changeid(changeid)
    status = await _status(tr, vnstore, changeid)
    if status == "missing":
        raise ChangeNotFound("no change {} in vnstore {!r}".format(changeid.hex, vnstore.name))
    if status == "applied":
        return
    edits = [
        (tuple(row[column] for column in vnstore.items), row[ALIVE])
        for row in await change_changes(tr, vnstore, changeid)
    ]
    conflicts = await _conflicts(tr, vnstore, changeid, edits)
    if conflicts:
        raise ChangeConflict(changeid, conflicts)
    await _touch(tr, vnstore)
    # The index of alive tuples: the last apply to touch a tuple writes its
    # state last, and apply order is significance order.
    for items, alive in edits:
        if alive:
            await nstore.add(tr, vnstore.alive, *items)
        else:
            await nstore.remove(tr, vnstore.alive, *items)
    stamp = _next_stamp(tr)
    await found.set_versionstamped_value(
        tr, _stamp_key(vnstore, changeid, "significance"), found.pack_with_versionstamp((stamp,))
    )
    history_key = found.pack_with_versionstamp(vnstore.prefix + ("applied", stamp))
    await found.set_versionstamped_key(tr, history_key, found.pack((changeid,)))
    applied = _vars(tr, _APPLIED, dict)
    applied[changeid] = (1, stamp.user_version)


# --- queries ---------------------------------------------------------------------


def _bind(pattern, binding):
    return tuple(binding[item.name] if isinstance(item, _Variable) else item for item in pattern)


def _public(binding):
    return {name: value for name, value in binding.items() if name not in (_CHANGE, _ALIVE)}


async def select(
    tr: Transaction, vnstore: VNStore, *pattern: Any, seed: Optional[Mapping[str, Any]] = None
) -> AsyncIterator[Dict[str, Any]]:
    """Yield bindings (dicts of variable name to value) of the
    alive tuples of ``vnstore`` that match ``pattern``, whose elements are
    values or nstore.var. ``seed`` bindings are included in every result."""
    _check_store(vnstore)
    _check_pattern(vnstore, pattern)
    active = await _pending_active(tr, vnstore)
    own = {}
    if active is not None:
        mine = list(pattern) + [active, nstore.var(_ALIVE)]
        async for binding in nstore.select(tr, vnstore.tuples, *mine, seed=seed):
            own[_bind(pattern, binding)] = (binding[_ALIVE], binding)
    async for binding in nstore.select(tr, vnstore.alive, *pattern, seed=seed):
        if own and own.get(_bind(pattern, binding), (True,))[0] is False:
            continue  # the active change removes it
        yield dict(binding)
    for items, (alive, binding) in own.items():
        if alive and not await _has(tr, vnstore.alive, *items):
            yield _public(binding)


async def where(
    tr: Transaction, vnstore: VNStore, iterator: AsyncIterable[Mapping[str, Any]], *pattern: Any
) -> AsyncIterator[Dict[str, Any]]:
    """For each binding from ``iterator``, bind ``pattern`` with it and yield
    the matching bindings of ``vnstore``. Used to chain queries."""
    _check_store(vnstore)
    _check_pattern(vnstore, pattern)
    async for binding in iterator:
        bound = [
            binding[item.name] if isinstance(item, _Variable) and item.name in binding else item for item in pattern
        ]
        async for out in select(tr, vnstore, *bound, seed=binding):
            yield out


class _Bindings:
    """The result of query: an async iterator of bindings, that may also be
    awaited first (``await vnstore.query(...)``) as in found 0.13."""

    def __init__(self, iterator: AsyncIterator[Mapping[str, Any]]) -> None:
        self._iterator = iterator

    def __aiter__(self) -> AsyncIterator[Mapping[str, Any]]:
        return self._iterator.__aiter__()

    def __await__(self) -> Generator[Any, None, AsyncIterator[Mapping[str, Any]]]:
        return self._itself().__await__()

    async def _itself(self) -> AsyncIterator[Mapping[str, Any]]:
        return self._iterator


def query(tr: Transaction, vnstore: VNStore, pattern: Sequence[Any], *patterns: Sequence[Any]) -> "_Bindings":
    """Bindings (immutable mappings) where the nstore.var of ``pattern`` and
    ``patterns`` take values that make every pattern an alive tuple. Iterate
    with ``async for``, or ``await`` it first for the async iterator."""
    _check_store(vnstore)
    out = select(tr, vnstore, *pattern)
    for other in patterns:
        out = where(tr, vnstore, out, *other)
    return _Bindings(_frozen(out))


async def _frozen(bindings: AsyncIterator[Dict[str, Any]]) -> AsyncIterator[Mapping[str, Any]]:
    # query's results are documented as immutable; select's as dicts.
    async for binding in bindings:
        yield types.MappingProxyType(binding)
