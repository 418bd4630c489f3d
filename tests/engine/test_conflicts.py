"""Serializable optimistic transactions: conflicts on what was read."""

import fdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


def _commit_code(tr):
    try:
        tr.commit().wait()
        return 0
    except fdb.FDBError as e:
        return e.code


def test_read_then_concurrent_write_conflicts(db):
    db[b"a"] = b"0"
    t1 = db.create_transaction()
    t1[b"a"].wait()
    t1[b"b"] = b"1"
    t2 = db.create_transaction()
    t2[b"a"] = b"2"
    t2.commit().wait()
    assert _commit_code(t1) == 1020
    assert db[b"b"] is None


def test_snapshot_read_does_not_conflict(db):
    t1 = db.create_transaction()
    t1.snapshot[b"a"].wait()
    t1[b"b"] = b"1"
    t2 = db.create_transaction()
    t2[b"a"] = b"2"
    t2.commit().wait()
    assert _commit_code(t1) == 0


def test_write_outside_read_range_does_not_conflict(db):
    t1 = db.create_transaction()
    list(t1.get_range(b"a", b"c"))
    t1[b"x"] = b"1"
    t2 = db.create_transaction()
    t2[b"c"] = b"outside"  # range end is exclusive
    t2.commit().wait()
    assert _commit_code(t1) == 0


def test_range_read_conflicts_with_insert_inside(db):
    t1 = db.create_transaction()
    assert list(t1.get_range(b"a", b"c")) == []
    t1[b"x"] = b"1"
    t2 = db.create_transaction()
    t2[b"b"] = b"phantom"
    t2.commit().wait()
    assert _commit_code(t1) == 1020


def test_limited_range_read_covers_only_rows_returned(db):
    for k in (b"a", b"b", b"c", b"d"):
        db[k] = b"v"
    t1 = db.create_transaction()
    assert [kv.key for kv in t1.get_range(b"a", b"z", limit=2)] == [b"a", b"b"]
    t1[b"x"] = b"1"
    t2 = db.create_transaction()
    t2[b"c"] = b"changed"  # beyond what t1 saw
    t2.commit().wait()
    assert _commit_code(t1) == 0


def test_read_of_own_write_does_not_conflict(db):
    t1 = db.create_transaction()
    t1[b"a"] = b"mine"
    assert t1[b"a"].value == b"mine"
    t2 = db.create_transaction()
    t2[b"a"] = b"theirs"
    t2.commit().wait()
    assert _commit_code(t1) == 0
    assert db[b"a"] == b"mine"


def test_add_read_conflict_range(db):
    t1 = db.create_transaction()
    t1.get_read_version().wait()  # conflicts are judged from the read version
    t1.add_read_conflict_range(b"m", b"n")
    t1[b"x"] = b"1"
    t2 = db.create_transaction()
    t2[b"m1"] = b"2"
    t2.commit().wait()
    assert _commit_code(t1) == 1020


def test_add_write_conflict_range(db):
    t1 = db.create_transaction()
    t1[b"q"].wait()
    t1[b"x"] = b"1"
    t2 = db.create_transaction()
    t2.add_write_conflict_range(b"p", b"r")  # no mutation, still a writer
    t2.commit().wait()
    assert _commit_code(t1) == 1020


def test_add_conflict_key(db):
    t1 = db.create_transaction()
    t1.get_read_version().wait()
    t1.add_read_conflict_key(b"k")
    t1[b"x"] = b"1"
    t2 = db.create_transaction()
    t2.add_write_conflict_key(b"k")
    t2.commit().wait()
    assert _commit_code(t1) == 1020


def test_next_write_no_write_conflict_range(db):
    t1 = db.create_transaction()
    t1[b"a"].wait()
    t1[b"x"] = b"1"
    t2 = db.create_transaction()
    t2.options.set_next_write_no_write_conflict_range()
    t2[b"a"] = b"silent"
    t2.commit().wait()
    assert _commit_code(t1) == 0


def test_key_selector_read_conflicts_with_key_it_skipped(db):
    db[b"a"] = b"1"
    db[b"c"] = b"1"
    t1 = db.create_transaction()
    assert t1.get_key(fdb.KeySelector.first_greater_than(b"a")).value == b"c"
    t1[b"x"] = b"1"
    t2 = db.create_transaction()
    t2[b"b"] = b"inserted"
    t2.commit().wait()
    assert _commit_code(t1) == 1020


def test_read_only_transaction_commits_without_version(db):
    db[b"a"] = b"1"
    t1 = db.create_transaction()
    t1[b"a"].wait()
    t2 = db.create_transaction()
    t2[b"a"] = b"2"
    t2.commit().wait()
    assert _commit_code(t1) == 0
    assert t1.get_committed_version() == -1


def test_committed_version_grows(db):
    versions = []
    for i in range(3):
        tr = db.create_transaction()
        tr[b"k"] = bytes([i])
        tr.commit().wait()
        versions.append(tr.get_committed_version())
    assert versions == sorted(versions) and len(set(versions)) == 3
    tr = db.create_transaction()
    assert tr.get_read_version().wait() >= versions[-1]


def test_reads_see_one_snapshot(db):
    db[b"a"] = b"1"
    t1 = db.create_transaction()
    assert t1[b"a"].value == b"1"
    db[b"a"] = b"2"
    db[b"b"] = b"new"
    assert t1[b"a"].value == b"1"
    assert t1[b"b"].value is None


def test_set_read_version_reads_the_past(db):
    db[b"a"] = b"old"
    v = db.create_transaction().get_read_version().wait()
    db[b"a"] = b"new"
    tr = db.create_transaction()
    tr.set_read_version(v)
    assert tr[b"a"].value == b"old"


def test_set_read_version_to_a_committed_version_after_blind_writes(db):
    # FoundationDB serves a version read from get_committed_version for a
    # while: the blind-write commits in between must not lose it.
    tr = db.create_transaction()
    tr[b"a"] = b"old"
    tr.commit().wait()
    v = tr.get_committed_version()
    for value in (b"new", b"newer"):
        t2 = db.create_transaction()
        t2[b"a"] = value
        t2[b"b"] = value
        t2.commit().wait()
    t3 = db.create_transaction()
    t3.set_read_version(v)
    assert t3[b"a"].value == b"old"
    assert t3[b"b"].value is None


def test_set_read_version_in_the_future(db):
    tr = db.create_transaction()
    v = tr.get_read_version().wait()
    t2 = db.create_transaction()
    t2.set_read_version(v + 10**9)
    with pytest.raises(fdb.FDBError) as e:
        t2[b"a"].wait()
    assert e.value.code == 1009


def test_concurrent_read_modify_write_loses_no_update(db):
    import threading

    db[b"counter"] = b"0"

    @fdb.transactional
    def bump(tr):
        tr[b"counter"] = str(int(tr[b"counter"].value) + 1).encode()

    def worker():
        for _ in range(25):
            bump(db)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert db[b"counter"] == b"100"


def test_range_read_of_own_writes_conflicts_only_on_stored_parts(db):
    for k in (b"a", b"m", b"y"):
        db[k] = b"v"
    t1 = db.create_transaction()
    t1.clear_range(b"a", b"n")  # t1 decides [a, n) itself
    t1[b"p"] = b"mine"
    assert [kv.key for kv in t1.get_range(b"a", b"z")] == [b"p", b"y"]
    t2 = db.create_transaction()
    t2[b"c"] = b"inside the cleared range"
    t2[b"p"] = b"over t1's own value"
    t2.commit().wait()
    assert _commit_code(t1) == 0
    t3 = db.create_transaction()
    t3.clear_range(b"a", b"n")
    list(t3.get_range(b"a", b"z"))
    t4 = db.create_transaction()
    t4[b"x"] = b"in the stored part"
    t4.commit().wait()
    assert _commit_code(t3) == 1020


def test_get_read_version_returns_the_version_set(db):
    db[b"a"] = b"1"
    v = db.create_transaction().get_read_version().wait()
    db[b"a"] = b"2"
    tr = db.create_transaction()
    tr.set_read_version(v)
    assert tr.get_read_version().wait() == v
    assert tr[b"a"].value == b"1"


KEYS = [b"a", b"b", b"c", b"d", b"e", b"f"]
_ops = st.one_of(
    st.tuples(st.just("get"), st.sampled_from(KEYS), st.booleans()),
    st.tuples(st.just("range"), st.sampled_from(KEYS), st.sampled_from(KEYS + [b"g"]), st.booleans()),
    st.tuples(st.just("set"), st.sampled_from(KEYS)),
    st.tuples(st.just("clear"), st.sampled_from(KEYS)),
    st.tuples(st.just("clear_range"), st.sampled_from(KEYS), st.sampled_from(KEYS + [b"g"])),
    st.tuples(st.just("add"), st.sampled_from(KEYS)),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    stored=st.sets(st.sampled_from(KEYS)),
    ops=st.lists(_ops, max_size=12),
    others=st.sets(st.sampled_from(KEYS), min_size=1, max_size=3),
)
def test_conflicts_match_foundationdb_rules(db, stored, ops, others):
    """t1 runs `ops`; t2 then writes `others` and commits first. t1 must fail
    with 1020 exactly when t2 wrote a key t1 read from the store (not
    snapshot, not decided by t1's own set/clear/cleared range)."""

    @fdb.transactional
    def reset(tr):
        tr.clear_range(b"", b"\xff")
        for k in stored:
            tr[k] = b"\x01"

    reset(db)
    t1 = db.create_transaction()
    t1.get_read_version().wait()
    independent, read = set(), set()
    for op in ops:
        kind = op[0]
        if kind == "get":
            (t1.snapshot if op[2] else t1)[op[1]].wait()
            if not op[2] and op[1] not in independent:
                read.add(op[1])
        elif kind == "range":
            b, e = sorted(op[1:3])
            list((t1.snapshot if op[3] else t1).get_range(b, e))
            if not op[3]:
                read |= {k for k in KEYS if b <= k < e and k not in independent}
        elif kind == "set":
            t1[op[1]] = b"\x02"
            independent.add(op[1])
        elif kind == "clear":
            t1.clear(op[1])
            independent.add(op[1])
        elif kind == "clear_range":
            b, e = sorted(op[1:3])
            t1.clear_range(b, e)
            independent |= {k for k in KEYS if b <= k < e}
        elif kind == "add":
            t1.add(op[1], b"\x01")
    t1[b"zz"] = b"makes t1 a writer"
    t2 = db.create_transaction()
    for k in others:
        t2[k] = b"\x03"
    t2.commit().wait()
    assert _commit_code(t1) == (1020 if read & others else 0)
