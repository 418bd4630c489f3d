"""found.directory's errors: DirectoryError (a ValueError) with a clear
message for what FoundationDB's directory layer refuses, TypeError naming
the argument for wrong types, FoundationDB errors unchanged. A refused
operation leaves its transaction as it was (committed anyway, it changes
nothing)."""

import struct

import pytest

import found
from directory_support import dump


@pytest.fixture
async def tree(db):
    """a/b (layer b"table"), p (a partition) holding p/x."""
    await found.directory.create(db, ("a", "b"), layer=b"table")
    await found.directory.create(db, "p", layer=b"partition")
    await found.directory.create(db, ("p", "x"))
    return db


async def refused(db, call, *args, match, tree_only=False, **kwargs):
    """``call(tx, *args)`` raises DirectoryError matching ``match`` and leaves
    the transaction as it was: committed anyway, it changes nothing (with
    ``tree_only``, nothing in the directory tree: the allocator's counters
    may have moved on, as in the official binding)."""
    before = await dump(db)
    paths = await all_paths(db) if tree_only else None

    async def attempt(tx):
        with pytest.raises(found.DirectoryError, match=match) as info:
            await call(tx, *args, **kwargs)
        return info.value

    error = await found.transactional(db, attempt)
    assert isinstance(error, ValueError) and isinstance(error, found.BaseFoundException)
    if tree_only:
        assert await all_paths(db) == paths
    else:
        assert await dump(db) == before
    return error


async def all_paths(db, path=()):
    """Every directory's path and prefix, depth first."""
    found_paths = []
    for name in await found.directory.list(db, path):
        child = await found.directory.open(db, path + (name,))
        found_paths.append((child.get_path(), child.rawPrefix))
        found_paths += await all_paths(db, child.get_path())
    return found_paths


async def test_missing_directory(tree):
    await refused(tree, found.directory.open, ("a", "zz"), match=r"directory \('a', 'zz'\) does not exist")
    await refused(tree, found.directory.list, "zz", match="does not exist")
    await refused(tree, found.directory.remove, ("p", "zz"), match=r"\('p', 'zz'\) does not exist")
    await refused(tree, found.directory.move, "zz", "yy", match="source directory .* does not exist")
    assert await found.directory.remove_if_exists(tree, "zz") is False
    assert await found.directory.exists(tree, ("p", "zz")) is False


async def test_layer_mismatch(tree):
    await refused(tree, found.directory.open, ("a", "b"), layer=b"other", match="incompatible layer")
    await refused(tree, found.directory.create_or_open, ("a", "b"), b"other", match="incompatible layer")
    await refused(tree, found.directory.open, "p", b"table", match="incompatible layer")
    # No layer asked (None or b""): any layer opens.
    assert (await found.directory.open(tree, ("a", "b"), b"")).get_layer() == b"table"


async def test_already_exists(tree):
    await refused(tree, found.directory.create, ("a", "b"), match=r"\('a', 'b'\) already exists")
    await refused(tree, found.directory.create, ("p", "x"), match="already exists")
    await refused(tree, found.directory.move, "a", "p", match="destination directory .* already exists")


async def test_moves_refused(tree):
    await refused(tree, found.directory.move, "a", ("a", "b", "c"), match="subdirectory of the source")
    await refused(tree, found.directory.move, "a", "a", match="subdirectory of the source")
    await refused(tree, found.directory.move, "a", ("zz", "a"), match="parent of the destination")
    await refused(tree, found.directory.move, "a", ("p", "a"), match="between partitions")
    await refused(tree, found.directory.move, ("p", "x"), "x", match="between partitions")
    x = await found.directory.open(tree, ("p", "x"))
    await refused(tree, x.move_to, ("a", "x"), match="between partitions")
    await refused(tree, found.directory.move_to, ("q",), match="root directory cannot be moved")


async def test_root_cannot_be_opened_or_removed(tree):
    await refused(tree, found.directory.create_or_open, (), match="root directory cannot be opened")
    await refused(tree, found.directory.remove, (), match="root directory cannot be removed")
    await refused(tree, found.directory.remove_if_exists, (), match="root directory cannot be removed")


async def test_manual_prefixes(db):
    await refused(db, found.directory.create, "m", prefix=b"\x05", match="manual prefixes are enabled")
    manual = found.DirectoryLayer(allow_manual_prefixes=True)
    await manual.create(db, "m", prefix=b"\x05mm")
    for overlapping in (b"\x05mm", b"\x05", b"\x05mm\x01", b"\xfe", b"\xfe\x01x"):
        await refused(db, manual.create, "n", prefix=overlapping, match="prefix .* is already in use")
    await refused(db, manual.create, "n", prefix=b"", match="already in use")
    await refused(db, manual.create, "n", prefix=b"\xff\xff", match="no byte other than 0xFF")
    partition = await manual.create(db, "p", layer=b"partition", prefix=b"\x06")
    await refused(db, partition.create, "x", prefix=b"\x06\x01", match="prefix in a partition")


async def test_allocator_refuses_prefixes_already_holding_keys(db):
    content = found.Subspace(rawPrefix=b"\x07")
    layer = found.DirectoryLayer(content_subspace=content)

    async def occupy(tx):
        for n in range(64):  # the whole first window of the allocator
            await found.set(tx, content.pack((n,)), b"squatter")

    await found.transactional(db, occupy)
    await refused(db, layer.create, "d", match="keys stored at the prefix chosen by the automatic", tree_only=True)


async def test_allocator_refuses_prefixes_overlapping_manual_ones(db):
    layer = found.DirectoryLayer(content_subspace=found.Subspace(rawPrefix=b"\x07"), allow_manual_prefixes=True)
    for n in range(64):
        await layer.create(db, ("m%d" % n,), prefix=b"\x07" + found.pack((n,)))
    await refused(db, layer.create, "d", match="manually allocated prefixes that conflict", tree_only=True)


async def set_version(db, major, minor, patch):
    await found.transactional(
        db, found.set, found.Subspace((b"\xfe",), b"\xfe").pack((b"version",)), struct.pack("<III", major, minor, patch)
    )


async def test_newer_major_version_is_refused(tree):
    await set_version(tree, 2, 0, 0)
    await refused(
        tree,
        found.directory.open,
        ("a", "b"),
        match="Cannot load directory with version 2.0.0 "
        r"using directory layer 1\.0\.0",
    )
    await refused(tree, found.directory.list, (), match="version 2.0.0")
    await refused(tree, found.directory.create, "n", match="version 2.0.0")


async def test_newer_minor_version_is_read_only(tree):
    await set_version(tree, 1, 1, 0)
    assert (await found.directory.open(tree, ("a", "b"))).get_layer() == b"table"
    assert await found.directory.list(tree) == ["a", "p"]
    await refused(tree, found.directory.create, "n", match=r"version 1\.1\.0 is read-only")
    await refused(tree, found.directory.remove, "a", match="read-only")
    await refused(tree, found.directory.move, "a", "n", match="read-only")


async def test_partition_root_holds_no_keys(tree):
    p = await found.directory.open(tree, "p")
    for call in (
        p.key,
        p.pack,
        p.range,
        lambda: p.unpack(b"k"),
        lambda: p.contains(b"k"),
        lambda: p["k"],
        lambda: p.subspace(("k",)),
        p.as_foundationdb_key,
        lambda: p.pack_with_versionstamp((found.Versionstamp(),)),
    ):
        with pytest.raises(found.DirectoryError, match=r"root of a directory partition \(\('p',\)\)"):
            call()


@pytest.mark.parametrize("path, shown", [(b"a", "bytes"), (["a"], "list"), (("a", 1), "int"), (None, "NoneType")])
async def test_path_types(db, path, shown):
    with pytest.raises(TypeError, match="path must be a str or a tuple of str.*" + shown):
        await found.directory.create_or_open(db, path)


async def test_argument_types(db):
    with pytest.raises(TypeError, match="layer must be bytes or None, not str"):
        await found.directory.create_or_open(db, "a", "table")
    with pytest.raises(TypeError, match="prefix must be bytes or None, not str"):
        await found.DirectoryLayer(allow_manual_prefixes=True).create(db, "a", prefix="x")
    with pytest.raises(TypeError, match="new_path must be a str or a tuple of str"):
        await found.directory.move(db, "a", 3)
    with pytest.raises(TypeError, match="tr must be a found.Transaction or a found.Database, not str"):
        await found.directory.open("db", "a")
    assert await dump(db) == []


async def test_foundationdb_errors_pass_through(tree):
    before = await dump(tree)
    with pytest.raises(found.FoundException) as info:
        await found.transactional(tree, found.directory.create, "n", snapshot=True)
    assert info.value.code == 2023  # transaction_read_only
    tx = found.make_transaction(tree)
    found.cancel(tx)
    with pytest.raises(found.FoundException) as info:
        await found.directory.open(tx, ("a", "b"))
    assert info.value.code == 1025  # transaction_cancelled
    assert await dump(tree) == before


async def test_snapshot_transactions_read(tree):
    """open, list and exists need no writes: they run in snapshot transactions."""
    opened = await found.transactional(tree, found.directory.open, ("p", "x"), snapshot=True)
    assert opened.get_path() == ("p", "x")
    assert await found.transactional(tree, found.directory.list, "p", snapshot=True) == ["x"]
    assert await found.transactional(tree, found.directory.exists, ("a", "b"), snapshot=True) is True


async def test_refusals_on_a_fresh_database_write_nothing(db):
    """Not even the format version, which the first change writes."""
    await refused(db, found.directory.move, "a", "b", match="source directory .* does not exist")
    await refused(db, found.directory.remove, "a", match="does not exist")
    await refused(db, found.directory.remove, (), match="root directory cannot be removed")
    await refused(
        db, found.DirectoryLayer(allow_manual_prefixes=True).create, "m", prefix=b"\xfe\x05", match="already in use"
    )
    await refused(db, found.directory.open, "a", match="does not exist")
    assert await dump(db) == []
    # What succeeds writes what the official binding writes: the version too.
    assert await found.directory.remove_if_exists(db, "a") is False
    assert [key for key, _ in await dump(db)] == [found.Subspace((b"\xfe",), b"\xfe").pack((b"version",))]
