"""Exception families: FoundException(code) is the subclass users catch, raised from real engine errors."""

import asyncio
import pickle

import pytest

import found
from found import _errors

FAMILIES = {
    found.NotCommittedError: (1020,),
    found.CommitUnknownResultError: (1021, 1039),
    found.TransactionTooOldError: (1007,),
    found.TimedOutError: (1004, 1031),
    found.TransactionCancelledError: (1025, 1101),
    found.TooLargeError: (2101, 2102, 2103),
}


@pytest.mark.parametrize("family,codes", FAMILIES.items(), ids=lambda x: getattr(x, "__name__", ""))
def test_each_family_is_chosen_by_code(family, codes):
    for code in codes:
        exc = found.FoundException(code)
        assert type(exc) is family and isinstance(exc, found.FoundException)
        assert exc.code == code and exc.name == found._codes.ERRORS[code][0]
        copy = pickle.loads(pickle.dumps(exc))
        assert type(copy) is family and copy.code == code and copy.message == exc.message


def test_other_codes_stay_found_exception():
    listed = {code for codes in FAMILIES.values() for code in codes}
    for code in found._codes.ERRORS:
        if code not in listed:
            assert type(found.FoundException(code)) is found.FoundException, code
    assert set(_errors._FAMILIES) == listed


def test_a_family_class_keeps_its_message():
    exc = found.TooLargeError(2102, "custom")
    assert str(exc) == "custom (2102)" and exc.maybe_committed is False
    assert found.CommitUnknownResultError(1021).maybe_committed


async def test_not_committed_from_a_conflict(db):
    await found.transactional(db, found.set, b"k", b"v")
    reader, writer = found.make_transaction(db), found.make_transaction(db)
    await found.get(reader, b"k")
    await found.set(writer, b"k", b"w")
    await found.commit(writer)
    await found.set(reader, b"k", b"r")
    with pytest.raises(found.NotCommittedError) as info:
        await found.commit(reader)
    assert info.value.code == found.FDB_ERR_NOT_COMMITTED


async def test_cancelled_transaction(db):
    tx = found.make_transaction(db)
    found.cancel(tx)
    with pytest.raises(found.TransactionCancelledError) as info:
        await found.get(tx, b"k")
    assert info.value.code == found.FDB_ERR_TRANSACTION_CANCELLED


async def test_timeout_option(db):
    tx = found.make_transaction(db)
    found.set_option(tx, found.FDB_TR_OPTION_TIMEOUT, 1)  # milliseconds
    await asyncio.sleep(0.05)  # past the deadline whatever the load: the next read must fail
    with pytest.raises(found.TimedOutError) as info:
        await found.get(tx, b"k")
    assert info.value.code == found.FDB_ERR_TRANSACTION_TIMED_OUT


async def test_found_timeout_of_transactional(db):
    async def slow(tx):
        await asyncio.sleep(10)

    with pytest.raises(found.TimedOutError):
        await found.transactional(db, slow, found_timeout=0.01)


@pytest.mark.engine_only
async def test_read_version_too_old(db):
    await found.transactional(db, found.set, b"k", b"v")
    tx = found.make_transaction(db)
    await found.set_read_version(tx, 1)
    with pytest.raises(found.TransactionTooOldError) as info:
        await found.get(tx, b"k")
    assert info.value.code == found.FDB_ERR_TRANSACTION_TOO_OLD


async def test_too_large(db):
    tx = found.make_transaction(db)
    found.set_option(tx, found.FDB_TR_OPTION_SIZE_LIMIT, 32)
    await found.set(tx, b"a" * 10, b"b" * 100)
    with pytest.raises(found.TooLargeError) as info:
        await found.commit(tx)  # the library refuses it
    assert info.value.code == found.FDB_ERR_TRANSACTION_TOO_LARGE
    tx = found.make_transaction(db)
    with pytest.raises(found.TooLargeError) as info:
        await found.set(tx, b"k" * (found.MAX_SIZE_KEY + 1), b"")  # found checks before C
    assert info.value.code == found.FDB_ERR_KEY_TOO_LARGE
