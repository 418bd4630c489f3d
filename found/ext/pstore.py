"""Inverted index for keyword search.

Each document is indexed as a counter: a mapping of str terms to positive
int counts.  ``search`` returns the documents that contain every keyword,
best first, scored by the sum of the keywords' counts in the document; equal
scores are ordered by the tuple encoding of the document uid, so rankings
are deterministic.

Key layout, under the store's tuple ``prefix``::

    prefix + ("doc", docuid)           -> zstd(pack((term, count, term, count, ...)))
    prefix + ("term", term, docuid)    -> pack((count,))

The compressed counter lets ``index`` (which replaces) and ``remove`` find
and clear the postings a document had.
"""

import heapq
from collections.abc import Iterable, Mapping
from operator import itemgetter
from typing import Any, ClassVar, Dict, List, Optional, Sequence, Tuple, Type

import found
from found import Transaction
from found.ext._extras import missing_extra
from found.ext._store import KEY_LIMIT, VALUE_LIMIT, StoreHandle

try:
    import zstandard
except ModuleNotFoundError as _missing:
    raise missing_extra(_missing, "pstore", "found.ext.pstore") from _missing


class PStoreException(found.BaseFoundException):
    """Bad input to a pstore (a counter that is not a mapping of str to
    positive int, keywords that are not str, a bad limit, a docuid the tuple
    layer cannot pack) or an unknown docuid."""


class PStore(StoreHandle):
    """Handle over a pstore: ``name`` and ``prefix`` (a tuple).  Build with
    ``make``."""

    __slots__ = ("_doc", "_term")
    kind: ClassVar[str] = "pstore"
    exception: ClassVar[Type[found.BaseFoundException]] = PStoreException

    _doc: bytes
    _term: bytes

    def __init__(self, name: str, prefix: Tuple[Any, ...], packed: bytes) -> None:
        super().__init__(name, prefix)
        self._doc = packed + found.pack(("doc",))
        self._term = packed + found.pack(("term",))


def make(name: str, prefix: Sequence[Any]) -> PStore:
    """Create a handle over a pstore called ``name`` (a str, for debugging)
    keeping its keys under ``prefix`` (a tuple; a list is taken as one)."""
    return PStore.make(name, prefix)


def _pack_docuid(store, docuid):
    try:
        return found.pack((docuid,))
    except Exception as exc:  # the tuple layer raises several types
        raise PStoreException("{}: docuid {!r} cannot be packed: {}".format(store.name, docuid, exc)) from exc


def _check_counter(store, counter):
    if not isinstance(counter, Mapping):
        raise PStoreException("{}: counter must be a mapping, got {}".format(store.name, type(counter).__name__))
    for term, count in counter.items():
        if not isinstance(term, str):
            raise PStoreException("{}: terms must be str, got {} ({!r})".format(store.name, type(term).__name__, term))
        if isinstance(count, bool) or not isinstance(count, int):
            raise PStoreException(
                "{}: count of {!r} must be int, got {}".format(store.name, term, type(count).__name__)
            )
        if count <= 0:
            raise PStoreException("{}: count of {!r} must be > 0, got {}".format(store.name, term, count))


def _encode_counter(store, counter):
    flat = []
    for term in sorted(counter):
        flat.extend((term, counter[term]))
    try:
        record = zstandard.compress(found.pack(tuple(flat)))
    except Exception as exc:  # a term with a lone surrogate cannot be encoded
        raise PStoreException("{}: counter cannot be packed: {}".format(store.name, exc)) from exc
    store.check_size("the compressed counter", len(record), VALUE_LIMIT)
    return record


def _decode_counter(record):
    flat = found.unpack(zstandard.decompress(record))
    return dict(zip(flat[0::2], flat[1::2]))


def _posting_key(store, term, packed_docuid):
    return store._term + found.pack((term,)) + packed_docuid


async def _unindex(tx, store, packed_docuid, record):
    for term in _decode_counter(record):
        await found.clear(tx, _posting_key(store, term, packed_docuid))
    await found.clear(tx, store._doc + packed_docuid)


async def index(tx: Transaction, store: PStore, docuid: Any, counter: Mapping[str, int]) -> None:
    """Index the document ``docuid`` with ``counter`` (a mapping of str
    terms to int counts > 0), replacing what it was indexed with before."""
    packed_docuid = _pack_docuid(store, docuid)
    _check_counter(store, counter)
    record = _encode_counter(store, counter)
    postings = [(_posting_key(store, term, packed_docuid), count) for term, count in counter.items()]
    for key, _ in postings:
        store.check_size("the key a term and the docuid make", len(key), KEY_LIMIT)
    previous = await found.get(tx, store._doc + packed_docuid)
    if previous is not None:
        await _unindex(tx, store, packed_docuid, previous)
    await found.set(tx, store._doc + packed_docuid, record)
    for key, count in postings:
        await found.set(tx, key, found.pack((count,)))


async def remove(tx: Transaction, store: PStore, docuid: Any) -> None:
    """Remove the document ``docuid`` from the index; raise PStoreException
    when it is not indexed."""
    packed_docuid = _pack_docuid(store, docuid)
    record = await found.get(tx, store._doc + packed_docuid)
    if record is None:
        raise PStoreException("{}: no document with docuid={!r}".format(store.name, docuid))
    await _unindex(tx, store, packed_docuid, record)


async def counter(tx: Transaction, store: PStore, docuid: Any) -> Optional[Dict[str, int]]:
    """Return the counter ``docuid`` is indexed with, or None."""
    record = await found.get(tx, store._doc + _pack_docuid(store, docuid))
    return None if record is None else _decode_counter(record)


def _check_keywords(store, keywords):
    if isinstance(keywords, (str, bytes)) or not isinstance(keywords, Iterable):
        raise PStoreException(
            "{}: keywords must be an iterable of str, got {}".format(store.name, type(keywords).__name__)
        )
    keywords = list(keywords)
    for keyword in keywords:
        if not isinstance(keyword, str):
            raise PStoreException(
                "{}: keywords must be str, got {} ({!r})".format(store.name, type(keyword).__name__, keyword)
            )
    if not keywords:
        raise PStoreException("{}: search needs at least one keyword".format(store.name))
    return sorted(set(keywords))


def _check_limit(store, limit):
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise PStoreException("{}: limit must be int, got {}".format(store.name, type(limit).__name__))
    if limit <= 0:
        raise PStoreException("{}: limit must be > 0, got {}".format(store.name, limit))


async def _postings(tx, store, keyword):
    """{packed docuid: count} of the documents containing ``keyword``."""
    head = store._term + found.pack((keyword,))
    skip, unpack = len(head), found.unpack
    out = {}
    async for key, value in found.query(tx, head + b"\x00", head + b"\xff"):
        (out[key[skip:]],) = unpack(value)
    return out


async def search(tx: Transaction, store: PStore, keywords: Iterable[str], limit: int = 13) -> List[Tuple[Any, int]]:
    """Return at most ``limit`` (docuid, score) pairs for the documents
    containing every keyword of ``keywords`` (an iterable of str), by
    decreasing score (the sum of the keywords' counts), then by docuid."""
    keywords = _check_keywords(store, keywords)
    _check_limit(store, limit)
    scores = None
    for keyword in keywords:
        postings = await _postings(tx, store, keyword)
        if scores is None:
            scores = postings
        else:
            scores = {doc: score + postings[doc] for doc, score in scores.items() if doc in postings}
        if not scores:
            return []
    # ``scores`` is in posting order, that is by encoded docuid, and
    # nlargest keeps that order among equal scores.
    best = heapq.nlargest(limit, scores.items(), key=itemgetter(1))
    return [(found.unpack(packed)[0], score) for packed, score in best]
