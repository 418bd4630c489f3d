"""Keys a transaction cannot read before it commits (1036 accessed_unreadable):
a key with a pending versionstamped value, and the range a pending
versionstamped key may land in. Only a read that covers such a key fails;
reads that end, or stop at a limit, before it see the rest of the data."""

import struct

import fdb
import pytest

STAMP_VALUE = b"\x00" * 10 + struct.pack("<I", 0)
LANDING_KEY = b"log/" + b"\x00" * 10 + struct.pack("<I", 4)  # may land in [log/\0*10, log/\xff*10]
KS = fdb.KeySelector


def _rows(result):
    return [(kv.key, kv.value) for kv in result]


def _unreadable(read):
    with pytest.raises(fdb.FDBError) as e:
        read()
    return e.value.code == 1036


@pytest.fixture
def tr_stamped_value(db):
    """Stored a1, m1, z0; pending in the transaction: b1 set, z1 stamped value."""
    for k in (b"a1", b"m1", b"z0"):
        db[k] = b"stored"
    tr = db.create_transaction()
    tr[b"b1"] = b"pending"
    tr.set_versionstamped_value(b"z1", STAMP_VALUE)
    return tr


def test_range_ending_before_a_stamped_value_reads(db):
    # the case that failed: the merge looked at z1 although [a, b) ends before it
    tr = db.create_transaction()
    tr[b"a1"] = b"x"
    tr.set_versionstamped_value(b"z1", STAMP_VALUE)
    assert _rows(tr.get_range(b"a", b"b")) == [(b"a1", b"x")]
    assert _rows(tr.get_range(b"a", b"b", reverse=True)) == [(b"a1", b"x")]
    assert _rows(tr.get_range(b"a", b"z1")) == [(b"a1", b"x")]  # end excluded
    assert _rows(tr.get_range(b"z1\x00", b"zz")) == []  # begins just after it


def test_range_starting_after_a_stamped_value_reads_in_reverse(db):
    db[b"a5"] = b"stored"
    tr = db.create_transaction()
    tr[b"a1"] = b"x"
    tr.set_versionstamped_value(b"a0", STAMP_VALUE)
    assert _rows(tr.get_range(b"a1", b"b", reverse=True)) == [(b"a5", b"stored"), (b"a1", b"x")]
    assert _rows(tr.get_range(b"a1", b"b")) == [(b"a1", b"x"), (b"a5", b"stored")]
    assert _unreadable(lambda: list(tr.get_range(b"a0", b"b", reverse=True)))


def test_range_covering_a_stamped_value_is_unreadable(tr_stamped_value):
    tr = tr_stamped_value
    assert _unreadable(lambda: list(tr.get_range(b"a", b"zz")))
    assert _unreadable(lambda: list(tr.get_range(b"a", b"zz", reverse=True)))
    assert _unreadable(lambda: list(tr.get_range(b"z1", b"z1\x00")))
    assert _unreadable(lambda: tr[b"z1"].wait())
    assert _rows(tr.get_range(b"a", b"z1")) == [
        (b"a1", b"stored"),
        (b"b1", b"pending"),
        (b"m1", b"stored"),
        (b"z0", b"stored"),
    ]


def test_limit_stopping_before_a_stamped_value_reads(tr_stamped_value):
    tr = tr_stamped_value
    assert _rows(tr.get_range(b"a", b"zz", limit=4)) == [
        (b"a1", b"stored"),
        (b"b1", b"pending"),
        (b"m1", b"stored"),
        (b"z0", b"stored"),
    ]
    assert _unreadable(lambda: list(tr.get_range(b"a", b"zz", limit=5)))
    # reverse: z1 is the first row from the top, so any limit reaches it
    assert _unreadable(lambda: list(tr.get_range(b"a", b"zz", limit=1, reverse=True)))
    assert _rows(tr.get_range(b"a", b"z1", limit=2, reverse=True)) == [(b"z0", b"stored"), (b"m1", b"stored")]


def test_reverse_limit_stopping_above_a_stamped_value_reads(db):
    for k in (b"m1", b"n1"):
        db[k] = b"stored"
    tr = db.create_transaction()
    tr.set_versionstamped_value(b"a0", STAMP_VALUE)
    assert _rows(tr.get_range(b"a", b"z", limit=2, reverse=True)) == [(b"n1", b"stored"), (b"m1", b"stored")]
    assert _unreadable(lambda: list(tr.get_range(b"a", b"z", limit=3, reverse=True)))


def test_selectors_stopping_before_a_stamped_value_resolve(tr_stamped_value):
    tr = tr_stamped_value
    assert tr.get_key(KS.first_greater_or_equal(b"z")) == b"z0"
    assert tr.get_key(KS.last_less_than(b"z1")) == b"z0"
    assert tr.get_key(KS.last_less_or_equal(b"z0")) == b"z0"
    assert tr.get_key(KS.first_greater_or_equal(b"a") + 2) == b"m1"
    assert tr.get_key(KS.first_greater_than(b"z1")) == b"\xff"
    assert _rows(tr.get_range(KS.first_greater_or_equal(b"a") + 1, KS.last_less_or_equal(b"z0"))) == [
        (b"b1", b"pending"),
        (b"m1", b"stored"),
    ]


def test_selectors_walking_onto_a_stamped_value_are_unreadable(tr_stamped_value):
    tr = tr_stamped_value
    assert _unreadable(lambda: tr.get_key(KS.first_greater_than(b"z0")).wait())
    assert _unreadable(lambda: tr.get_key(KS.first_greater_or_equal(b"z") + 1).wait())
    assert _unreadable(lambda: tr.get_key(KS.last_less_than(b"\xff")).wait())
    assert _unreadable(lambda: tr.get_key(KS.last_less_than(b"zz") - 1).wait())


@pytest.fixture
def tr_stamped_key(db):
    """Stored a1, n1; pending: a versionstamped key landing within log/..."""
    for k in (b"a1", b"n1"):
        db[k] = b"stored"
    tr = db.create_transaction()
    tr.set_versionstamped_key(LANDING_KEY, b"entry")
    return tr


def test_limit_stopping_before_a_landing_range_reads(tr_stamped_key):
    tr = tr_stamped_key
    assert _rows(tr.get_range(b"a", b"z", limit=1)) == [(b"a1", b"stored")]
    assert _rows(tr.get_range(b"a", b"z", limit=1, reverse=True)) == [(b"n1", b"stored")]
    assert _unreadable(lambda: list(tr.get_range(b"a", b"z", limit=2)))
    assert _unreadable(lambda: list(tr.get_range(b"a", b"z", limit=2, reverse=True)))
    assert _rows(tr.get_range(b"log0", b"z")) == [(b"n1", b"stored")]
    assert _rows(tr.get_range(b"a", b"log/")) == [(b"a1", b"stored")]


def test_selectors_and_a_landing_range(tr_stamped_key):
    tr = tr_stamped_key
    assert tr.get_key(KS.last_less_than(b"b")) == b"a1"
    assert tr.get_key(KS.first_greater_than(b"log0")) == b"n1"
    assert _unreadable(lambda: tr.get_key(KS.last_less_than(b"n1")).wait())  # walks across it
    assert _unreadable(lambda: tr.get_key(KS.first_greater_than(b"a1")).wait())
    assert _unreadable(lambda: list(tr.get_range(KS.last_less_than(b"n1"), b"z")))


def test_everything_is_readable_after_commit(tr_stamped_value, db):
    tr_stamped_value.commit().wait()
    rows = _rows(db.get_range(b"a", b"zz"))
    assert [k for k, _ in rows] == [b"a1", b"b1", b"m1", b"z0", b"z1"]
    assert len(rows[-1][1]) == 10  # the 10-byte stamp, offset suffix dropped
