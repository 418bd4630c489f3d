"""A batch whose write ranges make a large conflict-history entry (~30 KB,
on LMDB overflow pages): a conflict on any of its ranges, the first, one in
the middle or the last, is found; a read beside all of them is not one."""

import pytest


@pytest.mark.parametrize("which", [0, 150, 299])
def test_a_conflict_on_any_range_of_a_large_batch_is_found(db, which):
    keys = [b"many/%04d/" % i + b"k" * 40 for i in range(300)]  # ~30 KB of ranges
    reader = db.create_transaction()
    reader.get(keys[which]).wait()
    reader[b"other"] = b"x"

    writer = db.create_transaction()
    for key in keys:
        writer[key] = b"v"
    writer.commit().wait()

    with pytest.raises(Exception) as caught:
        reader.commit().wait()
    assert getattr(caught.value, "code", None) == 1020


def test_a_read_beside_every_range_of_a_large_batch_commits(db):
    keys = [b"many/%04d/" % i + b"k" * 40 for i in range(300)]
    reader = db.create_transaction()
    reader.get(b"many/zzzz").wait()  # after every written key
    reader[b"other"] = b"x"
    writer = db.create_transaction()
    for key in keys:
        writer[key] = b"v"
    writer.commit().wait()
    reader.commit().wait()
