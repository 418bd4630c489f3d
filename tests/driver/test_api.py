"""Each documented function of the driver, against the embedded engine."""

import struct

import pytest

import found
from driver_support import everything, put


async def test_get_set(db):
    async def read(tx, key):
        return await found.get(tx, key)

    assert await found.transactional(db, read, b"hello") is None
    await found.transactional(db, found.set, b"hello", b"world")
    assert await found.transactional(db, read, b"hello") == b"world"


async def test_empty_value_is_not_absent(db):
    await found.transactional(db, found.set, b"k", b"")
    assert await found.transactional(db, found.get, b"k") == b""


async def test_large_value_round_trip(db):
    value = bytes(range(256)) * 390  # larger than the helper's scratch buffer
    await found.transactional(db, found.set, b"big", value)
    assert await found.transactional(db, found.get, b"big") == value


async def test_read_your_writes(db):
    async def both(tx):
        await found.set(tx, b"a", b"1")
        return await found.get(tx, b"a")

    assert await found.transactional(db, both) == b"1"


async def test_clear_key_and_range(db):
    await put(db, *[(bytes([c]), b"v") for c in b"abcde"])
    await found.transactional(db, found.clear, b"a")
    assert [k for k, _ in await everything(db)] == [b"b", b"c", b"d", b"e"]
    await found.transactional(db, found.clear, b"b", b"d")  # d excluded
    assert [k for k, _ in await everything(db)] == [b"d", b"e"]


async def test_query_forward_reverse_and_limit(db):
    await put(db, *[(found.pack((i,)), found.pack((str(i),))) for i in range(11)])

    async def scan(tx, begin, end, **kw):
        return await found.all(found.query(tx, begin, end, **kw))

    out = await found.transactional(db, scan, found.pack((1,)), found.pack((8,)))
    assert [found.unpack(k)[0] for k, _ in out] == list(range(1, 8))
    out = await found.transactional(db, scan, found.pack((8,)), found.pack((4,)))
    assert [found.unpack(k)[0] for k, _ in out] == [8, 7, 6, 5, 4]
    assert [found.unpack(v)[0] for _, v in out] == ["8", "7", "6", "5", "4"]
    out = await found.transactional(db, scan, b"", b"\xff", limit=3)
    assert [found.unpack(k)[0] for k, _ in out] == [0, 1, 2]
    out = await found.transactional(db, scan, b"\xff", b"", limit=2)
    assert [found.unpack(k)[0] for k, _ in out] == [10, 9]


@pytest.mark.parametrize(
    "mode",
    [
        found.STREAMING_MODE_WANT_ALL,
        found.STREAMING_MODE_ITERATOR,
        found.STREAMING_MODE_SMALL,
        found.STREAMING_MODE_MEDIUM,
        found.STREAMING_MODE_LARGE,
        found.STREAMING_MODE_SERIAL,
    ],
)
async def test_query_every_streaming_mode(db, mode):
    pairs = [(b"k%05d" % i, b"v" * (i % 50)) for i in range(3000)]
    for start in range(0, len(pairs), 1000):
        await put(db, *pairs[start : start + 1000])

    async def scan(tx, reverse):
        begin, end = (b"\xff", b"k") if reverse else (b"k", b"\xff")
        return await found.all(found.query(tx, begin, end, mode=mode))

    assert await found.transactional(db, scan, False) == pairs
    assert await found.transactional(db, scan, True) == pairs[::-1]


async def test_query_exact_mode_needs_limit(db):
    await put(db, *[(b"k%d" % i, b"") for i in range(10)])

    async def scan(tx, **kw):
        return await found.all(found.query(tx, b"k", b"l", mode=found.STREAMING_MODE_EXACT, **kw))

    assert len(await found.transactional(db, scan, limit=4)) == 4
    with pytest.raises(found.FoundException) as info:
        await found.transactional(db, scan)
    assert info.value.code == 2210  # exact_mode_without_limits


async def test_query_across_batches_with_limit(db):
    pairs = [(b"%06d" % i, b"x" * 100) for i in range(5000)]
    for start in range(0, len(pairs), 1000):
        await put(db, *pairs[start : start + 1000])

    async def scan(tx, **kw):
        return await found.all(found.query(tx, b"", b"\xff", **kw))

    assert await found.transactional(db, scan, limit=4321) == pairs[:4321]
    assert await found.transactional(db, scan, limit=4321, mode=found.STREAMING_MODE_SMALL) == pairs[:4321]


async def test_query_with_key_selectors(db):
    await put(db, *[(bytes([c]), b"") for c in b"abcdef"])

    async def scan(tx, begin, end):
        return [k for k, _ in await found.all(found.query(tx, begin, end))]

    assert await found.transactional(db, scan, found.gt(b"b"), found.gte(b"e")) == [b"c", b"d"]
    assert await found.transactional(db, scan, found.gte(b"b"), found.gt(b"e")) == [b"b", b"c", b"d", b"e"]
    assert await found.transactional(db, scan, found.lt(b"c"), b"e") == [b"b", b"c", b"d"]


async def test_get_key_selectors(db):
    await put(db, (b"b", b""), (b"d", b""), (b"f", b""))

    async def resolve(tx, selector):
        return await found.get_key(tx, selector)

    cases = [
        (found.gte(b"d"), b"d"),
        (found.gte(b"c"), b"d"),
        (found.gt(b"d"), b"f"),
        (found.gt(b"c"), b"d"),
        (found.lte(b"d"), b"d"),
        (found.lte(b"e"), b"d"),
        (found.lt(b"d"), b"b"),
        (found.lt(b"e"), b"d"),
        (found.gte(b"b", 2), b"d"),
        (found.gt(b"b", 2), b"f"),
        (found.lte(b"f", -1), b"d"),
        (found.lt(b"f", -1), b"b"),
        (found.gte(b"a", 3), b"f"),
    ]
    for selector, expected in cases:
        assert await found.transactional(db, resolve, selector) == expected, selector


def test_selector_defaults():
    assert found.lt(b"k") == found.KeySelector(b"k", False, 0)
    assert found.lte(b"k") == found.KeySelector(b"k", True, 0)
    assert found.gt(b"k") == found.KeySelector(b"k", True, 1)
    assert found.gte(b"k") == found.KeySelector(b"k", False, 1)
    assert found.gte(b"k", 3) == (b"k", False, 3)
    with pytest.raises(TypeError, match="key must be bytes, not str"):
        found.gte("k")


async def test_read_version_and_set_read_version(db):
    await found.transactional(db, found.set, b"a", b"1")

    async def version(tx):
        return await found.read_version(tx)

    first = await found.transactional(db, version)
    assert isinstance(first, int) and first > 0
    await found.transactional(db, found.set, b"a", b"2")
    assert await found.transactional(db, version) > first

    async def old_read(tx):
        await found.set_read_version(tx, first)
        assert await found.read_version(tx) == first
        return await found.get(tx, b"a")

    assert await found.transactional(db, old_read) == b"1"


async def test_atomic_operations(db):
    def le(n):
        return struct.pack("<q", n)

    await put(
        db,
        (b"add", le(5)),
        (b"and", b"\x0f"),
        (b"or", b"\x0f"),
        (b"xor", b"\x0f"),
        (b"max", le(5)),
        (b"min", le(5)),
        (b"bmax", b"m"),
        (b"bmin", b"m"),
        (b"app", b"ab"),
        (b"cac", b"same"),
        (b"cac2", b"other"),
    )

    async def ops(tx):
        await found.add(tx, b"add", le(-7))
        await found.bit_and(tx, b"and", b"\x3c")
        await found.bit_or(tx, b"or", b"\x30")
        await found.bit_xor(tx, b"xor", b"\xff")
        await found.max(tx, b"max", le(9))
        await found.min(tx, b"min", le(2))
        await found.byte_max(tx, b"bmax", b"z")
        await found.byte_min(tx, b"bmin", b"a")
        await found.append_if_fits(tx, b"app", b"cd")
        await found.compare_and_clear(tx, b"cac", b"same")
        await found.compare_and_clear(tx, b"cac2", b"same")

    await found.transactional(db, ops)
    out = dict(await everything(db))
    assert out[b"add"] == le(-2)
    assert out[b"and"] == b"\x0c"
    assert out[b"or"] == b"\x3f"
    assert out[b"xor"] == b"\xf0"
    assert out[b"max"] == le(9)
    assert out[b"min"] == le(2)
    assert out[b"bmax"] == b"z"
    assert out[b"bmin"] == b"a"
    assert out[b"app"] == b"abcd"
    assert b"cac" not in out
    assert out[b"cac2"] == b"other"


async def test_append_if_fits_does_nothing_when_too_large(db):
    await found.transactional(db, found.set, b"k", b"x" * 99_999)
    await found.transactional(db, found.append_if_fits, b"k", b"yy")
    assert await found.transactional(db, found.get, b"k") == b"x" * 99_999


async def test_versionstamps(db):
    async def write(tx):
        key = found.pack_with_versionstamp((b"log", found.Versionstamp()))
        await found.set_versionstamped_key(tx, key, b"payload")
        value = found.pack_with_versionstamp((found.Versionstamp(),))
        await found.set_versionstamped_value(tx, b"latest", value)
        stamp = found.get_versionstamp(tx)  # before commit …
        await found.commit(tx)
        return await stamp, found.get_committed_version(tx)  # … awaited after

    tx = found.make_transaction(db)
    stamp, version = await write(tx)
    assert len(stamp) == 10 and int.from_bytes(stamp[:8], "big") == version
    pairs = dict(await everything(db))
    (key,) = [k for k in pairs if k != b"latest"]
    assert found.unpack(key) == (b"log", found.Versionstamp(stamp))
    assert found.unpack(pairs[b"latest"]) == (found.Versionstamp(stamp),)


async def test_commit_and_committed_version(db):
    tx = found.make_transaction(db)
    await found.set(tx, b"a", b"b")
    await found.commit(tx)
    version = found.get_committed_version(tx)
    tx = found.make_transaction(db)
    assert await found.read_version(tx) >= version
    assert await found.get(tx, b"a") == b"b"


async def test_read_only_transaction_committed_version_is_minus_one(db):
    tx = found.make_transaction(db)
    await found.get(tx, b"a")
    await found.commit(tx)
    assert found.get_committed_version(tx) == -1


async def test_reset_discards_writes(db):
    tx = found.make_transaction(db)
    await found.set(tx, b"a", b"b")
    found.reset(tx)
    await found.commit(tx)
    assert await everything(db) == []


async def test_cancel_makes_later_operations_fail(db):
    tx = found.make_transaction(db)
    found.cancel(tx)
    with pytest.raises(found.FoundException) as info:
        await found.get(tx, b"a")
    assert info.value.code == 1025  # transaction_cancelled


async def test_on_error_retryable_and_not(db):
    tx = found.make_transaction(db)
    await found.on_error(tx, 1020)  # not_committed: retryable, returns
    with pytest.raises(found.FoundException) as info:
        await found.on_error(tx, 2004)  # key_outside_legal_range: not retryable
    assert info.value.code == 2004


async def test_approximate_size_grows(db):
    tx = found.make_transaction(db)
    empty = await found.get_approximate_size(tx)
    await found.set(tx, b"key", b"v" * 1000)
    assert await found.get_approximate_size(tx) >= empty + 1000


async def test_estimated_size_and_split_points(db):
    assert await found.transactional(db, found.estimated_size_bytes, b"", b"\xff") == 0
    for start in range(0, 200, 50):
        await put(db, *[(found.pack((i,)), b"\x00" * 10_000) for i in range(start, start + 50)])
    size = await found.transactional(db, found.estimated_size_bytes, b"", b"\xff")
    assert size > 0
    begin, end = found.pack((0,)), found.pack((1000,))
    points = await found.transactional(db, found.get_range_split_points, begin, end, 100_000)
    assert isinstance(points, list) and all(isinstance(p, bytes) for p in points)
    assert points == sorted(points) and all(begin <= p <= end for p in points)
    # 2 MB in 100 kB chunks: interior split points, bounded by begin and end
    assert len(points) > 2 and points[0] == begin and points[-1] == end


async def test_addresses_for_key(db):
    addresses = await found.transactional(db, found.get_addresses_for_key, b"a")
    assert isinstance(addresses, list) and all(isinstance(a, str) for a in addresses)


async def test_add_conflict_range_validates_type(db):
    tx = found.make_transaction(db)
    found.add_conflict_range(tx, b"a", b"b", found.CONFLICT_RANGE_TYPE_READ)
    found.add_conflict_range(tx, b"a", b"b", found.CONFLICT_RANGE_TYPE_WRITE)
    with pytest.raises(found.FoundException) as info:
        found.add_conflict_range(tx, b"a", b"b", 42)
    assert info.value.code == 2006  # invalid_option_value


async def test_set_option_and_database_option(db):
    tx = found.make_transaction(db)
    found.set_option(tx, found.FDB_TR_OPTION_TIMEOUT, struct.pack("<q", 60_000))
    found.set_option(tx, found.FDB_TR_OPTION_RETRY_LIMIT, 5)  # int accepted, packed as 8 bytes
    found.set_option(tx, found.FDB_TR_OPTION_CAUSAL_READ_RISKY)
    found.database_set_option(db, found.FDB_DB_OPTION_TRANSACTION_TIMEOUT, struct.pack("<q", 60_000))
    with pytest.raises(TypeError, match=r"option timeout \(500\) takes an int"):
        found.set_option(tx, found.FDB_TR_OPTION_TIMEOUT, 1.5)


def test_every_option_constant_is_exported():
    from found._codes import OPTIONS

    prefixes = {
        "NetworkOption": "FDB_NET_OPTION_",
        "DatabaseOption": "FDB_DB_OPTION_",
        "TransactionOption": "FDB_TR_OPTION_",
        "StreamingMode": "FDB_STREAMING_MODE_",
        "MutationType": "FDB_MUTATION_TYPE_",
        "ConflictRangeType": "FDB_CONFLICT_RANGE_TYPE_",
        "ErrorPredicate": "FDB_ERROR_PREDICATE_",
    }
    for scope, name, code, _ in OPTIONS:
        constant = prefixes[scope] + name.upper()
        assert getattr(found, constant) == code or scope == "NetworkOption", constant
        if scope in ("StreamingMode", "MutationType", "ConflictRangeType", "ErrorPredicate"):
            assert getattr(found, constant[len("FDB_") :]) == getattr(found, constant)
    assert (
        found.ERROR_PREDICATE_RETRYABLE,
        found.ERROR_PREDICATE_MAYBE_COMMITTED,
        found.ERROR_PREDICATE_RETRYABLE_NOT_COMMITTED,
    ) == (50000, 50001, 50002)
    assert found.STREAMING_MODE_WANT_ALL == -2 and found.STREAMING_MODE_ITERATOR == -1


async def test_client_version_and_error_predicate(db):
    assert isinstance(found.get_client_version(), str) and found.get_client_version()
    assert found.error_predicate(found.ERROR_PREDICATE_RETRYABLE, 1020)
    assert not found.error_predicate(found.ERROR_PREDICATE_RETRYABLE, 2004)
    assert found.error_predicate(found.ERROR_PREDICATE_MAYBE_COMMITTED, 1021)
    assert not found.error_predicate(found.ERROR_PREDICATE_MAYBE_COMMITTED, 1020)
    assert found.error_predicate(found.ERROR_PREDICATE_RETRYABLE_NOT_COMMITTED, 1020)
    assert not found.error_predicate(found.ERROR_PREDICATE_RETRYABLE_NOT_COMMITTED, 1021)


def test_exceptions_carry_code_and_message():
    exc = found.FoundException(1020)
    assert isinstance(exc, found.BaseFoundException)
    assert exc.code == 1020
    assert exc.message == "Transaction not committed due to conflict with another transaction"
    assert str(exc) == "Transaction not committed due to conflict with another transaction (1020)"
    assert not exc.maybe_committed and found.FoundException(1021).maybe_committed


def test_next_prefix():
    assert found.next_prefix(b"a") == b"b"
    assert found.next_prefix(b"a\xff\xff") == b"b"
    assert found.next_prefix(b"\x00\xfe") == b"\x00\xff"
    with pytest.raises(ValueError):
        found.next_prefix(b"\xff\xff")
    with pytest.raises(ValueError):
        found.next_prefix(b"")


async def test_co_all_limit():
    @found.co
    def double(x):
        return 2 * x

    assert await double(21) == 42

    async def numbers():
        for i in range(10):
            yield i

    assert await found.all(numbers()) == list(range(10))
    assert await found.all(found.limit(numbers(), 3)) == [0, 1, 2]
    assert await found.all(found.limit(numbers(), 0)) == []
    assert await found.all(found.limit(numbers(), 20)) == list(range(10))


async def test_snapshot_transaction_reads_and_refuses_writes(db):
    await found.transactional(db, found.set, b"a", b"1")
    assert await found.transactional(db, found.get, b"a", snapshot=True) == b"1"
    with pytest.raises(found.FoundException) as info:
        await found.transactional(db, found.set, b"a", b"2", snapshot=True)
    assert info.value.code == 2023
    assert await found.transactional(db, found.get, b"a") == b"1"


async def test_pack_helpers_are_reexported():
    assert found.unpack(found.pack((1, "a", b"b"))) == (1, "a", b"b")
    assert found.has_incomplete_versionstamp((found.Versionstamp(),))
    assert not found.has_incomplete_versionstamp((1,))


def test_every_public_callable_has_a_docstring():
    import inspect

    missing = [
        name
        for name, value in vars(found).items()
        if not name.startswith("_")
        and (inspect.isfunction(value) or inspect.isclass(value))
        and value.__module__.startswith("found")
        and not (value.__doc__ or "").strip()
    ]
    assert missing == []


def test_documented_names_exist():
    documented = """BaseFoundException FoundException open transactional transaction Hooks make_hooks
        TransactionStats get set pack pack_with_versionstamp unpack has_incomplete_versionstamp Versionstamp
        clear query STREAMING_MODE_WANT_ALL STREAMING_MODE_ITERATOR STREAMING_MODE_EXACT STREAMING_MODE_SMALL
        STREAMING_MODE_MEDIUM STREAMING_MODE_LARGE STREAMING_MODE_SERIAL get_key commit on_error reset cancel
        get_committed_version get_approximate_size get_versionstamp add_conflict_range CONFLICT_RANGE_TYPE_READ
        CONFLICT_RANGE_TYPE_WRITE set_option watch make_transaction get_range_split_points estimated_size_bytes
        next_prefix lt lte gt gte read_version set_read_version co all limit add bit_and bit_or bit_xor max
        byte_max min byte_min set_versionstamped_key set_versionstamped_value append_if_fits compare_and_clear
        get_client_version get_addresses_for_key database_set_option network_set_option
        add_network_thread_completion_hook error_predicate ERROR_PREDICATE_RETRYABLE
        ERROR_PREDICATE_MAYBE_COMMITTED ERROR_PREDICATE_RETRYABLE_NOT_COMMITTED""".split()
    assert [name for name in documented if not hasattr(found, name)] == []
    assert [name for name in documented if name not in found.__all__] == []
    assert [name for name in found.__all__ if not hasattr(found, name)] == []
    import inspect

    opened = inspect.signature(found.open).parameters
    assert list(opened) == ["cluster_file", "library"] and opened["cluster_file"].default is None
    assert opened["library"].kind is inspect.Parameter.KEYWORD_ONLY
    parameters = inspect.signature(found.query).parameters
    assert parameters["limit"].default == 0 and parameters["mode"].default == found.STREAMING_MODE_ITERATOR
    assert inspect.signature(found.transactional).parameters["snapshot"].default is False
    assert inspect.signature(found.clear).parameters["other"].default is None
    assert inspect.signature(found.set_option).parameters["value"].default is None
    assert inspect.signature(found.gt).parameters["offset"].default == 1
    assert inspect.signature(found.lt).parameters["offset"].default == 0


async def test_query_fetches_lazily_with_the_iteration_counter(db, monkeypatch):
    from found import _transaction

    await put(db, *[(b"%05d" % i, b"x" * 200) for i in range(3000)])
    calls = []
    real = _transaction._found_get_range

    def counting(*args):
        calls.append(args[12])  # the iteration argument
        return real(*args)

    monkeypatch.setattr(_transaction, "_found_get_range", counting)
    tx = found.make_transaction(db)
    stream = found.query(tx, b"", b"\xff")
    assert await stream.__anext__() == (b"00000", b"x" * 200)
    assert calls == [1]  # one batch so far, not the whole range
    rest = [pair async for pair in stream]
    assert len(rest) == 2999
    assert calls == list(range(1, len(calls) + 1)) and len(calls) > 1


async def test_conflict_ranges_cause_conflicts(db):
    reader = found.make_transaction(db)
    await found.read_version(reader)
    found.add_conflict_range(reader, b"a", b"c", found.CONFLICT_RANGE_TYPE_READ)  # as if it read [a, c)
    await found.set(reader, b"x", b"1")
    await found.transactional(db, found.set, b"b", b"concurrent")
    with pytest.raises(found.FoundException) as info:
        await found.commit(reader)
    assert info.value.code == 1020

    victim = found.make_transaction(db)
    assert await found.get(victim, b"k") is None
    await found.set(victim, b"y", b"1")
    writer = found.make_transaction(db)
    found.add_conflict_range(writer, b"k", b"l", found.CONFLICT_RANGE_TYPE_WRITE)  # as if it wrote k
    await found.commit(writer)
    with pytest.raises(found.FoundException) as info:
        await found.commit(victim)
    assert info.value.code == 1020
    assert dict(await everything(db)) == {b"b": b"concurrent"}
