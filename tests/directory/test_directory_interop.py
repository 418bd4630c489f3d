"""Byte compatibility with the official binding's directory layer, both ways.

Directories made by ``fdb.directory`` over the engine are opened, listed,
moved and removed by found, and the reverse. The scripted test runs one
sequence of operations three times on fresh data: all through fdb, all
through found, and each step through either; with the allocator's random
generator seeded alike before each step, the three databases must end
byte for byte identical and every step must answer the same.
"""

import asyncio
import random
import shutil
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import found
from directory_support import dump, fdb, fdb_dump


def describe(result):
    """A directory as (kind, path, prefix, layer); other results as they are."""
    if isinstance(result, (fdb.directory_impl.DirectorySubspace, found.DirectorySubspace)):
        return (type(result).__name__, result.get_path(), result.rawPrefix, result.get_layer())
    return result


# --- one tree, each client doing part of the work ------------------------------------


async def test_found_opens_lists_moves_and_removes_what_fdb_created(db, fdb_db):
    users = fdb.directory.create_or_open(fdb_db, ("app", "users"), layer=b"table")
    fdb.directory.create(fdb_db, ("app", "orders"))
    part = fdb.directory.create(fdb_db, ("tenant",), layer=b"partition")
    inner = part.create_or_open(fdb_db, ("logs", "2024"))
    fdb_db[users.pack((1, "ada"))] = b"x"

    opened = await found.directory.open(db, ("app", "users"), layer=b"table")
    assert opened.rawPrefix == users.rawPrefix and opened.get_layer() == b"table"
    assert opened.get_path() == ("app", "users")
    assert await found.transactional(db, found.get, opened.pack((1, "ada"))) == b"x"
    assert await found.directory.list(db, ("app",)) == ["orders", "users"]
    assert await found.directory.list(db) == ["app", "tenant"]
    found_part = await found.directory.open(db, "tenant")
    assert isinstance(found_part, found.DirectoryPartition) and found_part.rawPrefix == part.rawPrefix
    found_inner = await found.directory.open(db, ("tenant", "logs", "2024"))
    assert found_inner.rawPrefix == inner.rawPrefix
    assert await found_part.list(db, "logs") == ["2024"]

    await found.directory.move(db, ("app", "users"), ("app", "people"))
    await found_inner.move_to(db, ("tenant", "archive"))
    assert fdb.directory.list(fdb_db, ("app",)) == ["orders", "people"]
    assert fdb.directory.open(fdb_db, ("app", "people")).rawPrefix == users.rawPrefix
    assert fdb.directory.open(fdb_db, ("tenant", "archive")).rawPrefix == inner.rawPrefix

    assert await found.directory.remove(db, ("app", "people")) is True
    assert not fdb.directory.exists(fdb_db, ("app", "people"))
    assert fdb_db[users.pack((1, "ada"))] is None
    assert await found.directory.remove_if_exists(db, "tenant") is True
    assert fdb.directory.list(fdb_db) == ["app"]
    assert [k for k, _ in fdb_dump(fdb_db) if k.startswith(part.rawPrefix)] == []


async def test_fdb_opens_lists_moves_and_removes_what_found_created(db, fdb_db):
    users = await found.directory.create_or_open(db, ("app", "users"), layer=b"table")
    await found.directory.create(db, ("app", "orders"))
    part = await found.directory.create(db, ("tenant",), layer=b"partition")
    inner = await part.create_or_open(db, ("logs", "2024"))
    await found.transactional(db, found.set, users.pack((1, "ada")), b"x")

    opened = fdb.directory.open(fdb_db, ("app", "users"), layer=b"table")
    assert opened.rawPrefix == users.rawPrefix and opened.get_layer() == b"table"
    assert fdb_db[opened.pack((1, "ada"))] == b"x"
    assert fdb.directory.list(fdb_db, ("app",)) == ["orders", "users"]
    fdb_part = fdb.directory.open(fdb_db, "tenant")
    assert isinstance(fdb_part, fdb.directory_impl.DirectoryPartition) and fdb_part.rawPrefix == part.rawPrefix
    assert fdb.directory.open(fdb_db, ("tenant", "logs", "2024")).rawPrefix == inner.rawPrefix

    fdb.directory.move(fdb_db, ("app", "users"), ("app", "people"))
    fdb_part.move(fdb_db, ("logs", "2024"), ("archive",))
    assert await found.directory.list(db, ("app",)) == ["orders", "people"]
    assert (await found.directory.open(db, ("app", "people"))).rawPrefix == users.rawPrefix
    assert (await found.directory.open(db, ("tenant", "archive"))).rawPrefix == inner.rawPrefix

    fdb.directory.remove(fdb_db, ("app", "people"))
    assert not await found.directory.exists(db, ("app", "people"))
    assert await found.transactional(db, found.get, users.pack((1, "ada"))) is None
    assert fdb.directory.remove_if_exists(fdb_db, "tenant") is True
    assert await found.directory.list(db) == ["app"]


async def test_manual_prefixes_and_custom_subspaces_match(db, fdb_db):
    node, content = (b"\x01nodes",), (b"\x01data",)
    ours = found.DirectoryLayer(found.Subspace(node), found.Subspace(content), allow_manual_prefixes=True)
    theirs = fdb.DirectoryLayer(fdb.Subspace(node), fdb.Subspace(content), allow_manual_prefixes=True)
    manual = await ours.create(db, ("m",), prefix=b"\x05manual")
    auto = await ours.create(db, ("a", "b"))
    assert auto.key().startswith(found.Subspace(content).key())
    assert theirs.open(fdb_db, "m").rawPrefix == manual.rawPrefix == b"\x05manual"
    assert theirs.open(fdb_db, ("a", "b")).rawPrefix == auto.rawPrefix
    theirs.create(fdb_db, "n", prefix=b"\x06other")
    assert (await ours.open(db, "n")).key() == b"\x06other"
    assert await ours.list(db) == theirs.list(fdb_db) == ["a", "m", "n"]
    # Nothing of either went to the default tree.
    assert not await found.directory.list(db)


# --- the same script through fdb, through found, and through both --------------------

NAMES = st.sampled_from(["a", "b", "p"])
PATHS = st.lists(NAMES, min_size=0, max_size=3).map(tuple)
LAYERS = st.sampled_from([None, b"", b"L", b"partition"])
STEPS = st.one_of(
    st.tuples(st.just("create_or_open"), PATHS, LAYERS),
    st.tuples(st.just("create"), PATHS, LAYERS),
    st.tuples(st.just("open"), PATHS, LAYERS),
    st.tuples(st.just("move"), PATHS, PATHS),
    st.tuples(st.just("move_to"), PATHS, PATHS),
    st.tuples(st.just("remove"), PATHS),
    st.tuples(st.just("remove_if_exists"), PATHS),
    st.tuples(st.just("list"), PATHS),
    st.tuples(st.just("exists"), PATHS),
    st.tuples(st.just("write"), PATHS),
)


def fdb_step(db, step):
    op, *args = step
    if op == "move_to":
        return fdb.directory.open(db, args[0]).move_to(db, args[1])
    if op == "write":
        target = fdb.directory.open(db, args[0])
        db[target.pack(("row",))] = b"v"
        return None
    return getattr(fdb.directory, op)(db, *args)


async def found_step(db, step):
    op, *args = step
    if op == "move_to":
        return await (await found.directory.open(db, args[0])).move_to(db, args[1])
    if op == "write":
        target = await found.directory.open(db, args[0])
        await found.transactional(db, found.set, target.pack(("row",)), b"v")
        return None
    return await getattr(found.directory, op)(db, *args)


async def run_script(db, fdb_db, steps, through_found):
    """Each step's answer (or "error"), step i run with random.seed(i)."""
    answers = []
    for i, (step, ours) in enumerate(zip(steps, through_found)):
        random.seed(i)
        try:
            if ours:
                answer = await found_step(db, step)
            else:
                answer = fdb_step(fdb_db, step)
        except found.DirectoryError:
            answer = "error"
        except Exception:
            # fdb raises ValueError (or a plain Exception); found only DirectoryError.
            assert not ours
            answer = "error"
        answers.append(describe(answer))
    return answers


class Databases:
    """Two found and fdb handles each on fresh data, emptied between examples."""

    def __init__(self, loop, root):
        self.loop = loop
        self.handles = []
        for name in ("reference", "other"):
            data = "%s/%s" % (root, name)
            db = loop.run_until_complete(found.open(data))
            self.handles.append((db, fdb.open(cluster_file=data)))

    def clear(self):
        for db, _ in self.handles:
            self.loop.run_until_complete(found.transactional(db, found.clear, b"", b"\xff"))


@pytest.fixture(scope="module")
def databases():
    loop = asyncio.new_event_loop()
    root = tempfile.mkdtemp(prefix="found-directory-interop-")
    try:
        yield Databases(loop, root)
    finally:
        loop.close()
        shutil.rmtree(root, ignore_errors=True)


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(STEPS, min_size=1, max_size=25), st.data())
def test_same_script_same_bytes(databases, steps, data):
    through = data.draw(st.sampled_from(["found", "both"]))
    choices = (
        [True] * len(steps)
        if through == "found"
        else data.draw(st.lists(st.booleans(), min_size=len(steps), max_size=len(steps)))
    )
    databases.clear()
    (ref_db, ref_fdb), (db, db_fdb) = databases.handles
    run = databases.loop.run_until_complete
    expected = run(run_script(ref_db, ref_fdb, steps, [False] * len(steps)))
    answers = run(run_script(db, db_fdb, steps, choices))
    assert answers == expected
    assert run(dump(db)) == run(dump(ref_db))


async def test_allocator_windows_advance_alike(tmp_path):
    """300 directories, taking the allocator through several windows: made
    alternately by found and fdb, the database equals one made by fdb alone."""
    handles = []
    for name in ("reference", "mixed"):
        data = str(tmp_path / name)
        handles.append((await found.open(data), fdb.open(cluster_file=data)))
    (ref_db, ref_fdb), (db, db_fdb) = handles
    prefixes = []
    for i in range(300):
        random.seed(i)
        expected = fdb.directory.create(ref_fdb, ("d%03d" % i,)).rawPrefix
        random.seed(i)
        if i % 2:
            made = (await found.directory.create(db, ("d%03d" % i,))).rawPrefix
        else:
            made = fdb.directory.create(db_fdb, ("d%03d" % i,)).rawPrefix
        assert made == expected
        prefixes.append(made)
    assert len(set(prefixes)) == 300
    # The counters moved past the first windows (64 integers below 255, then 1024).
    assert max(found.unpack(p)[0] for p in prefixes) >= 255
    assert await dump(db) == await dump(ref_db)


# --- the same API ------------------------------------------------------------------------

DIRECTORY_METHODS = [
    "create_or_open",
    "open",
    "create",
    "move",
    "move_to",
    "remove",
    "remove_if_exists",
    "list",
    "exists",
    "get_layer",
    "get_path",
]
SUBSPACE_METHODS = [
    "__init__",
    "__getitem__",
    "key",
    "pack",
    "pack_with_versionstamp",
    "unpack",
    "range",
    "contains",
    "as_foundationdb_key",
    "subspace",
]


def parameters(func):
    """(name, kind, default) of each parameter; a Subspace default as its prefix."""
    import inspect

    def plain(default):
        return default.key() if hasattr(default, "rawPrefix") else default

    return [(p.name, p.kind, plain(p.default)) for p in inspect.signature(func).parameters.values()]


@pytest.mark.parametrize(
    "cls, name",
    [(c, n) for c in ("DirectoryLayer", "DirectorySubspace") for n in DIRECTORY_METHODS]
    + [("DirectoryLayer", "__init__")],
)
def test_directory_signatures_match_fdb(cls, name):
    ours = getattr(getattr(found, cls), name)
    theirs = getattr(getattr(fdb.directory_impl, cls), name)
    assert parameters(ours) == parameters(theirs)


@pytest.mark.parametrize("name", SUBSPACE_METHODS)
def test_subspace_signatures_match_fdb(name):
    assert parameters(getattr(found.Subspace, name)) == parameters(getattr(fdb.Subspace, name))
