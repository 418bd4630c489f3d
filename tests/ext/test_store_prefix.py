"""Every store's ``make`` takes its prefix the same way (found/ext/_prefix.py):
any sequence, as asyncio-foundationdb 0.13 did, and nothing else."""

import pytest

from ext_support import PREFIX
from found.ext import bstore, eavstore, nstore, pstore

MAKERS = {
    "bstore": (lambda prefix: bstore.make("p", prefix), bstore.BStoreException),
    "eavstore": (lambda prefix: eavstore.make("p", prefix), eavstore.EAVStoreException),
    "nstore": (lambda prefix: nstore.make("p", prefix, 3), nstore.NStoreException),
    "pstore": (lambda prefix: pstore.make("p", prefix), pstore.PStoreException),
}


@pytest.mark.parametrize("store", sorted(MAKERS))
def test_list_prefix_is_taken_as_the_tuple(store):
    make, _ = MAKERS[store]
    from_list = make(list(PREFIX))
    from_tuple = make(PREFIX)
    assert from_list.prefix == PREFIX and isinstance(from_list.prefix, tuple)
    assert repr(from_list) == repr(from_tuple)


def test_list_prefix_writes_the_same_keys():
    assert bstore.make("p", list(PREFIX)).key("x") == bstore.make("p", PREFIX).key("x")
    assert nstore.make("p", list(PREFIX), 3).range() == nstore.make("p", PREFIX, 3).range()


@pytest.mark.parametrize("store", sorted(MAKERS))
@pytest.mark.parametrize("prefix", ["s", b"s", bytearray(b"s"), 1, None, {"s": 1}, {"s"}])
def test_non_sequence_prefix_is_refused_naming_its_type(store, prefix):
    make, exception = MAKERS[store]
    with pytest.raises(exception, match="prefix must be a tuple or list, got " + type(prefix).__name__):
        make(prefix)


@pytest.mark.parametrize("store", sorted(MAKERS))
def test_unpackable_list_prefix_is_refused(store):
    make, exception = MAKERS[store]
    with pytest.raises(exception, match="cannot be packed"):
        make([object()])


@pytest.mark.parametrize("store", sorted(MAKERS))
def test_every_handle_shares_the_base(store):
    """One handle base (found/ext/_store.py): name check, repr, limits from found's generated table."""
    import found
    from found.ext._store import KEY_LIMIT, VALUE_LIMIT, StoreHandle

    make, exception = MAKERS[store]
    handle = make(PREFIX)
    assert isinstance(handle, StoreHandle) and handle.exception is exception
    assert repr(handle).startswith("<%s 'p' prefix=%r" % (store, PREFIX))
    assert (KEY_LIMIT, VALUE_LIMIT) == (found.FDB_KEY_SIZE_LIMIT, found.FDB_VALUE_SIZE_LIMIT)
    with pytest.raises(exception, match="name must be str, got int"):
        type(handle).make(1, PREFIX, *([3] if store == "nstore" else []))
    with pytest.raises(exception, match="p: thing is 11 bytes, over the 10 byte limit"):
        handle.check_size("thing", 11, 10)
    handle.check_size("thing", 10, 10)
