"""get_range: limits, byte targets, every streaming mode, reverse, selectors."""

import fdb
import fdb.impl
import pytest

WANT_ALL, ITERATOR, EXACT, SMALL, MEDIUM, LARGE, SERIAL = -2, -1, 0, 1, 2, 3, 4


def raw_range(
    tr,
    begin,
    end,
    limit=0,
    target_bytes=0,
    mode=WANT_ALL,
    iteration=1,
    snapshot=False,
    reverse=False,
    begin_sel=None,
    end_sel=None,
):
    """One fdb_transaction_get_range call: (keys, more)."""
    b = begin_sel or fdb.KeySelector.first_greater_or_equal(begin)
    e = end_sel or fdb.KeySelector.first_greater_or_equal(end)
    f = fdb.impl._capi.fdb_transaction_get_range(
        tr.tpointer,
        b.key,
        len(b.key),
        b.or_equal,
        b.offset,
        e.key,
        len(e.key),
        e.or_equal,
        e.offset,
        limit,
        target_bytes,
        mode,
        iteration,
        snapshot,
        reverse,
    )
    kvs, count, more = fdb.impl.FutureKeyValueArray(f).wait()
    return [kv.key for kv in kvs], bool(more)


@pytest.fixture
def filled(db):
    @fdb.transactional
    def fill(tr):
        for i in range(100):
            tr[b"k%03d" % i] = b"v" * 90

    fill(db)
    return db


def test_limit_and_more(filled):
    tr = filled.create_transaction()
    keys, more = raw_range(tr, b"k", b"l", limit=5)
    assert keys == [b"k%03d" % i for i in range(5)] and more
    keys, more = raw_range(tr, b"k", b"l", limit=100)
    assert len(keys) == 100 and not more


def test_reverse_with_limit(filled):
    tr = filled.create_transaction()
    keys, more = raw_range(tr, b"k", b"l", limit=3, reverse=True)
    assert keys == [b"k099", b"k098", b"k097"] and more


def test_target_bytes_stops_after_crossing(filled):
    tr = filled.create_transaction()
    keys, more = raw_range(tr, b"k", b"l", target_bytes=200, mode=EXACT)
    # each row is 4 + 90 bytes: the third row crosses 200
    assert len(keys) == 3 and more


@pytest.mark.parametrize(
    "mode,budget", [(SMALL, 256), (MEDIUM, 1000), (LARGE, 4096), (SERIAL, 80000), (WANT_ALL, 80000)]
)
def test_streaming_mode_byte_budgets(filled, mode, budget):
    tr = filled.create_transaction()
    keys, more = raw_range(tr, b"k", b"l", mode=mode)
    rows_needed = -(-budget // 94)  # rows until the budget is reached
    assert len(keys) == min(100, rows_needed)
    assert more == (rows_needed < 100)


def test_iterator_mode_grows_with_iteration(filled):
    tr = filled.create_transaction()
    sizes = [len(raw_range(tr, b"k", b"l", mode=ITERATOR, iteration=i)[0]) for i in (1, 2, 3)]
    assert sizes == [-(-4096 // 94), -(-6144 // 94), -(-9216 // 94)]


def test_iterator_mode_needs_positive_iteration(filled):
    tr = filled.create_transaction()
    with pytest.raises(fdb.FDBError) as e:
        raw_range(tr, b"k", b"l", mode=ITERATOR, iteration=0)
    assert e.value.code == 2000


def test_exact_mode_without_limits(filled):
    tr = filled.create_transaction()
    with pytest.raises(fdb.FDBError) as e:
        raw_range(tr, b"k", b"l", mode=EXACT)
    assert e.value.code == 2210


def test_unknown_mode(filled):
    tr = filled.create_transaction()
    with pytest.raises(fdb.FDBError) as e:
        raw_range(tr, b"k", b"l", mode=9)
    assert e.value.code == 2000


@pytest.mark.parametrize(
    "mode",
    [
        fdb.StreamingMode.want_all,
        fdb.StreamingMode.iterator,
        fdb.StreamingMode.exact,
        fdb.StreamingMode.small,
        fdb.StreamingMode.medium,
        fdb.StreamingMode.large,
        fdb.StreamingMode.serial,
    ],
)
def test_binding_reads_everything_in_every_mode(filled, mode):
    tr = filled.create_transaction()
    if mode == fdb.StreamingMode.exact:
        rows = list(tr.get_range(b"k", b"l", limit=100, streaming_mode=mode))
    else:
        rows = list(tr.get_range(b"k", b"l", streaming_mode=mode))
    assert [kv.key for kv in rows] == [b"k%03d" % i for i in range(100)]
    rows = list(tr.get_range(b"k", b"l", limit=7, reverse=True, streaming_mode=mode))
    assert [kv.key for kv in rows] == [b"k%03d" % i for i in range(99, 92, -1)]


def test_selector_bounds(filled):
    tr = filled.create_transaction()
    keys, _ = raw_range(
        tr,
        None,
        None,
        begin_sel=fdb.KeySelector.first_greater_than(b"k010"),
        end_sel=fdb.KeySelector.last_less_or_equal(b"k015"),
    )
    assert keys == [b"k011", b"k012", b"k013", b"k014"]
    keys, _ = raw_range(
        tr,
        None,
        None,
        begin_sel=fdb.KeySelector.first_greater_or_equal(b"k010") + 3,
        end_sel=fdb.KeySelector.first_greater_or_equal(b"k010") + 5,
    )
    assert keys == [b"k013", b"k014"]


def test_inverted_selectors_give_nothing(filled):
    tr = filled.create_transaction()
    assert raw_range(tr, b"k050", b"k010") == ([], False)


def test_range_stops_below_system_keys(db):
    tr = db.create_transaction()
    tr.options.set_access_system_keys()
    tr[b"\xff/sys"] = b"1"
    tr[b"user"] = b"1"
    tr.commit().wait()
    assert [kv.key for kv in db.get_range(b"", b"\xff")] == [b"user"]
    tr = db.create_transaction()
    tr.options.set_read_system_keys()
    assert [kv.key for kv in tr.get_range(b"", b"\xff\xff")] == [b"user", b"\xff/sys"]


def test_get_key_past_the_ends(filled):
    tr = filled.create_transaction()
    assert tr.get_key(fdb.KeySelector.last_less_than(b"k000")).value == b""
    assert tr.get_key(fdb.KeySelector.first_greater_than(b"k099")).value == b"\xff"
    assert tr.get_key(fdb.KeySelector.first_greater_or_equal(b"a") + 10).value == b"k010"
    assert tr.get_key(fdb.KeySelector.last_less_or_equal(b"k050") - 5).value == b"k045"


def test_estimated_size_and_split_points(filled):
    tr = filled.create_transaction()
    size = tr.get_estimated_range_size_bytes(b"k", b"l").wait()
    assert size > 0
    points = tr.get_range_split_points(b"k", b"l", 1000).wait()
    assert points[0] == b"k" and points[-1] == b"l"
    assert points == sorted(points) and len(points) > 3


def test_addresses_for_key(filled):
    import fdb.locality

    addresses = fdb.locality.get_addresses_for_key(filled.create_transaction(), b"k001").wait()
    assert len(addresses) == 1
