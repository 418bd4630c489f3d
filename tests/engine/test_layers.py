"""The official binding's own layers (tuple, subspace, directory) on the engine."""

import fdb
import fdb.tuple


def test_directory_layer(db):
    users = fdb.directory.create_or_open(db, ("app", "users"))
    db[users.pack((1, "ada"))] = b"x"
    db[users.pack((2, "bob"))] = b"y"
    assert fdb.directory.list(db, ("app",)) == ["users"]
    reopened = fdb.directory.open(db, ("app", "users"))
    assert [users.unpack(kv.key) for kv in db[reopened.range()]] == [(1, "ada"), (2, "bob")]
    fdb.directory.move(db, ("app", "users"), ("app", "people"))
    assert fdb.directory.exists(db, ("app", "people"))
    assert not fdb.directory.exists(db, ("app", "users"))
    fdb.directory.remove(db, ("app",))
    assert not fdb.directory.exists(db, ("app",))


def test_tuple_keys_with_versionstamp(db):
    tr = db.create_transaction()
    key = fdb.tuple.pack_with_versionstamp(("log", fdb.tuple.Versionstamp()))
    tr.set_versionstamped_key(key, b"entry")
    stamp = tr.get_versionstamp()
    tr.commit().wait()
    rows = list(db[fdb.tuple.range(("log",))])
    assert len(rows) == 1
    assert fdb.tuple.unpack(rows[0].key)[1].tr_version == stamp.wait()
