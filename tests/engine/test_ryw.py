"""Read-your-writes: a transaction's reads see its own pending writes,
including clears and atomic operations, in point reads, range reads and
key selectors — checked against model.TxModel."""

import fdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine_model import ATOMIC_OPS, TxModel

KEYS = [bytes([c]) for c in b"abcdef"] + [b"b\x00", b"bb", b"cc", b"d\x01"]
keys = st.sampled_from(KEYS)
values = st.binary(min_size=0, max_size=6)


def _rows(result):
    return [(kv.key, kv.value) for kv in result]


def test_get_sees_pending_set_and_clear(db):
    db[b"a"] = b"old"
    tr = db.create_transaction()
    tr[b"a"] = b"new"
    assert tr[b"a"] == b"new"
    tr.clear(b"a")
    assert tr[b"a"].value is None
    assert db[b"a"] == b"old"  # nothing visible outside before commit


def test_range_read_over_pending_clear_and_sets(db):
    for k in b"abcde":
        db[bytes([k])] = b"v"
    tr = db.create_transaction()
    tr.clear_range(b"b", b"d")
    tr[b"bb"] = b"inserted"
    assert _rows(tr[b"a":b"z"]) == [(b"a", b"v"), (b"bb", b"inserted"), (b"d", b"v"), (b"e", b"v")]
    assert _rows(tr.get_range(b"a", b"z", reverse=True)) == [
        (b"e", b"v"),
        (b"d", b"v"),
        (b"bb", b"inserted"),
        (b"a", b"v"),
    ]


def test_pending_atomic_add_is_read_over_stored_value(db):
    db[b"n"] = b"\x05\x00"
    tr = db.create_transaction()
    tr.add(b"n", b"\x03\x00")
    tr.add(b"n", b"\x01\x00")
    assert tr[b"n"].value == b"\x09\x00"
    assert _rows(tr[b"n":b"o"]) == [(b"n", b"\x09\x00")]
    tr.commit().wait()
    assert db[b"n"] == b"\x09\x00"


def test_atomic_after_clear_starts_from_absent(db):
    db[b"n"] = b"\x05"
    tr = db.create_transaction()
    tr.clear_range(b"a", b"z")
    tr.add(b"n", b"\x02")
    assert tr[b"n"].value == b"\x02"


def test_compare_and_clear_pending_hides_key_in_ranges(db):
    db[b"a"] = b"x"
    db[b"b"] = b"y"
    tr = db.create_transaction()
    tr.compare_and_clear(b"a", b"x")
    assert tr[b"a"].value is None
    assert _rows(tr[b"":b"\xff"]) == [(b"b", b"y")]


def test_key_selectors_see_pending_writes(db):
    db[b"b"] = b"1"
    db[b"d"] = b"1"
    tr = db.create_transaction()
    tr[b"c"] = b"new"
    tr.clear(b"d")
    assert tr.get_key(fdb.KeySelector.first_greater_than(b"b")) == b"c"
    assert tr.get_key(fdb.KeySelector.last_less_than(b"z")) == b"c"
    assert tr.get_key(fdb.KeySelector.last_less_or_equal(b"b")) == b"b"
    assert tr.get_key(fdb.KeySelector.first_greater_or_equal(b"c") + 1) == b"\xff"
    assert tr.get_key(fdb.KeySelector.last_less_than(b"b")) == b""


def test_versionstamped_value_is_unreadable_before_commit(db):
    tr = db.create_transaction()
    tr.set_versionstamped_value(b"vs", b"\x00" * 10 + b"\x00\x00\x00\x00")
    with pytest.raises(fdb.FDBError) as e:
        tr[b"vs"].wait()
    assert e.value.code == 1036  # accessed_unreadable


def test_where_a_pending_versionstamped_key_may_land_is_unreadable(db):
    import struct

    db[b"log/\x00"] = b"old"
    db[b"other"] = b"x"
    tr = db.create_transaction()
    tr.set_versionstamped_key(b"log/" + b"\x00" * 10 + struct.pack("<I", 4), b"entry")
    for read in (
        lambda: tr[b"log/\x00" + b"\x01" * 9].wait(),
        lambda: list(tr.get_range(b"log/", b"log0")),
        lambda: list(tr.get_range(b"a", b"z", reverse=True)),
        lambda: tr.get_key(fdb.KeySelector.first_greater_than(b"log/\x00")).wait(),
    ):
        with pytest.raises(fdb.FDBError) as e:
            read()
        assert e.value.code == 1036
    assert tr[b"other"].value == b"x"  # elsewhere reads work
    assert tr.get_key(fdb.KeySelector.first_greater_or_equal(b"log/")).value == b"log/\x00"
    assert [kv.key for kv in tr.get_range(b"a", b"log/")] == []
    tr.commit().wait()
    assert len(list(db.get_range(b"log/", b"log0"))) == 2


def test_read_your_writes_disable(db):
    db[b"a"] = b"stored"
    tr = db.create_transaction()
    tr.options.set_read_your_writes_disable()
    tr[b"a"] = b"pending"
    tr[b"b"] = b"pending"
    assert tr[b"a"] == b"stored"
    assert _rows(tr[b"a":b"c"]) == [(b"a", b"stored")]


def test_read_your_writes_disable_after_a_write_is_refused(db):
    tr = db.create_transaction()
    tr[b"a"] = b"1"
    with pytest.raises(fdb.FDBError) as e:
        tr.options.set_read_your_writes_disable()
    assert e.value.code == 2000


def test_snapshot_ryw_disable_hides_writes_from_snapshot_reads_only(db):
    db[b"a"] = b"stored"
    tr = db.create_transaction()
    tr.options.set_snapshot_ryw_disable()
    tr[b"a"] = b"pending"
    assert tr.snapshot[b"a"] == b"stored"
    assert tr[b"a"] == b"pending"


operation = st.one_of(
    st.tuples(st.just("set"), keys, values),
    st.tuples(st.just("clear"), keys),
    st.tuples(st.just("clear_range"), keys, keys),
    st.tuples(st.just("atomic"), st.sampled_from(ATOMIC_OPS), keys, st.binary(min_size=0, max_size=4)),
    st.tuples(st.just("get"), keys),
    st.tuples(st.just("range"), keys, keys, st.integers(0, 4), st.booleans()),
    st.tuples(st.just("key"), keys, st.booleans(), st.integers(-3, 3)),
    st.tuples(
        st.just("selectors"),
        keys,
        st.booleans(),
        st.integers(-2, 3),
        keys,
        st.booleans(),
        st.integers(-2, 3),
        st.booleans(),
    ),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(initial=st.dictionaries(keys, values, max_size=6), ops=st.lists(operation, max_size=25))
def test_transaction_matches_model(db, initial, ops):
    @fdb.transactional
    def reset(tr):
        tr.clear_range(b"", b"\xff")
        for k, v in initial.items():
            tr[k] = v

    reset(db)
    model = TxModel(initial)
    tr = db.create_transaction()
    for op in ops:
        kind = op[0]
        if kind == "set":
            tr[op[1]] = op[2]
            model.set(op[1], op[2])
        elif kind == "clear":
            tr.clear(op[1])
            model.clear(op[1])
        elif kind == "clear_range":
            b, e = sorted(op[1:3])
            tr.clear_range(b, e)
            model.clear_range(b, e)
        elif kind == "atomic":
            _, code, k, param = op
            tr._atomic_operation(code, k, param)
            model.atomic(code, k, param)
        elif kind == "get":
            assert tr[op[1]].value == model.get(op[1]), op
        elif kind == "range":
            b, e = sorted(op[1:3])
            got = _rows(tr.get_range(b, e, limit=op[3], reverse=op[4]))
            assert got == model.get_range(b, e, op[3], op[4]), op
        elif kind == "key":
            _, k, or_equal, offset = op
            got = tr.get_key(fdb.KeySelector(k, or_equal, offset)).value
            assert got == model.resolve(k, or_equal, offset), op
        elif kind == "selectors":
            _, bk, bo, boff, ek, eo, eoff, reverse = op
            b = model.resolve(bk, bo, boff)
            e = model.resolve(ek, eo, eoff)
            want = model.get_range(b, e, 0, reverse) if b < e else []
            got = _rows(tr.get_range(fdb.KeySelector(bk, bo, boff), fdb.KeySelector(ek, eo, eoff), reverse=reverse))
            assert got == want, op
    tr.commit().wait()
    assert _rows(db[b"":b"\xff"]) == model.get_range(b"", b"\xff")


def test_many_pending_writes_read_back_in_order(db):
    import random

    rng = random.Random(5)
    stored = {b"s%05d" % rng.randrange(20000): b"stored" for _ in range(2000)}

    @fdb.transactional
    def fill(tr):
        for k, v in stored.items():
            tr[k] = v

    fill(db)
    model = TxModel(stored)
    tr = db.create_transaction()
    for i in range(5000):
        k = b"s%05d" % rng.randrange(20000)
        r = rng.random()
        if r < 0.6:
            tr[k] = b"w%d" % i
            model.set(k, b"w%d" % i)
        elif r < 0.9:
            tr.clear(k)
            model.clear(k)
        else:
            e = b"s%05d" % (int(k[1:]) + rng.randrange(200))
            tr.clear_range(k, e)
            model.clear_range(k, e)
    assert _rows(tr.get_range(b"", b"\xff")) == model.get_range(b"", b"\xff")
    assert _rows(tr.get_range(b"", b"\xff", reverse=True)) == model.get_range(b"", b"\xff", reverse=True)
    assert _rows(tr.get_range(b"s05000", b"s06000", limit=17)) == model.get_range(b"s05000", b"s06000", 17)


def test_one_transaction_shared_by_threads(db):
    import threading

    tr = db.create_transaction()
    errors = []

    def worker(t):
        try:
            for i in range(200):
                k = b"t%d-%03d" % (t, i)
                tr[k] = b"%d" % i
                assert tr[k].value == b"%d" % i
                list(tr.get_range(b"t", b"u", limit=10))
        except Exception as e:  # reported below, from the main thread
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    tr.commit().wait()
    assert len(list(db.get_range(b"t", b"u"))) == 800
