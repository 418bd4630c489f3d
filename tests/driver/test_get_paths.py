"""found.get's paths answer alike.

A plain transaction with a bytes key is read by one CPython call
(found._cpairs.get); a snapshot view, a bytes subclass as key, or a
transaction object it does not know take the checked CFFI path. Both must
give the same values, the same read-your-writes, the same errors and the
same refusals.
"""

import pytest

import found
from driver_support import futures_alive, put, run_python
from found import _transaction
from found._layer_reads import snapshot_of


class Key(bytes):
    pass


async def test_every_path_reads_the_same(db):
    await put(db, (b"a", b"stored"), (b"big", b"v" * 20_000), (b"empty", b""), (b"gone", b"x"))
    alive = futures_alive()

    async def read(tx):
        await found.set(tx, b"mine", b"written")
        await found.clear(tx, b"gone")
        keys = [b"a", b"big", b"empty", b"gone", b"mine", b"absent"]
        direct = [await found.get(tx, k) for k in keys]
        checked = [await _transaction._get_checked(tx, k) for k in keys]
        subclass = [await found.get(tx, Key(k)) for k in keys]
        view = [await found.get(snapshot_of(tx), k) for k in keys]
        return direct, checked, subclass, view

    direct, checked, subclass, view = await found.transactional(db, read)
    assert direct == [b"stored", b"v" * 20_000, b"", None, b"written", None]
    assert checked == subclass == view == direct
    assert futures_alive() == alive


async def test_snapshot_transactions_read_through_the_c_call(db):
    await put(db, (b"a", b"1"))
    assert await found.transactional(db, found.get, b"a", snapshot=True) == b"1"


async def test_errors_and_refusals_are_the_same(db):
    tx = found.make_transaction(db)
    with pytest.raises(found.FoundException) as direct:
        await found.get(tx, b"\xff")  # key_outside_legal_range, from the engine
    with pytest.raises(found.FoundException) as checked:
        await _transaction._get_checked(tx, b"\xff")
    assert direct.value.code == checked.value.code == 2004
    with pytest.raises(TypeError):
        await found.get(tx, "a")
    with pytest.raises(TypeError):
        await found.get(object(), b"a")
    _transaction.close(tx)
    with pytest.raises(_transaction.InterfaceError):
        await found.get(tx, b"a")


@pytest.mark.engine_only
def test_the_driver_counts_futures_with_the_engine_loaded_globally_first(tmp_path):
    """The driver's C calls the C API through its own wrappers (hidden), never
    through a libfdb_c another component loaded RTLD_GLOBAL (the official
    binding's tests do): else the futures it counts go astray."""
    run_python(
        """
        import asyncio, ctypes, importlib.util, os, sys
        where = importlib.util.find_spec("found").submodule_search_locations[0]
        ctypes.CDLL(os.path.join(where, "_lib", "libfdb_c.so"), mode=ctypes.RTLD_GLOBAL)  # before found
        import found
        from found import _fdb
        async def main():
            db = await found.open(sys.argv[1])
            await found.transactional(db, found.set, b"a", b"1")
            assert await found.transactional(db, found.get, b"a") == b"1"
            assert _fdb.lib.found_futures_alive_count() == 0, _fdb.lib.found_futures_alive_count()
        asyncio.run(main())
        """,
        str(tmp_path / "db"),
    )
