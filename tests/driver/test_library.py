"""Which library found loads (docs/driver.md, "Which library")."""

import os
import subprocess
import sys

import pytest

import found
from driver_support import ROOT, run_python
from found import _library

# Which library found picks, and the engine's own directory rule.
pytestmark = pytest.mark.engine_only

REAL_CLUSTER = "# a FoundationDB cluster file\ndocker:Xa9bC3dE@127.0.0.1:4500,127.0.0.1:4501\n"

# argv: the expected part of the message, then found.open's arguments.
_OPEN_REFUSED = """
    import asyncio, sys, found
    async def main():
        try:
            await found.open(*sys.argv[2:])
        except found.LibraryError as exc:
            assert sys.argv[1] in str(exc), exc
        else:
            raise AssertionError("opened %r" % (found.library(),))
        assert found.library() is None
    asyncio.run(main())
"""


def assert_open_refused(message, *open_args, env):
    """In a fresh interpreter with ``env``, ``found.open(*open_args)`` raises
    LibraryError mentioning ``message`` and leaves no library loaded."""
    run_python(_OPEN_REFUSED, message, *open_args, env=env)


def test_is_cluster_file(tmp_path):
    real = tmp_path / "fdb.cluster"
    real.write_text(REAL_CLUSTER)
    embedded = tmp_path / "embedded.cluster"
    embedded.write_text("embedded:%s\n" % (tmp_path / "data"))
    assert _library.is_cluster_file(str(real))
    assert not _library.is_cluster_file(str(embedded))
    assert not _library.is_cluster_file(str(tmp_path))  # a directory
    assert not _library.is_cluster_file(str(tmp_path / "missing.cluster"))


def test_resolve_rule(tmp_path, monkeypatch):
    real = tmp_path / "fdb.cluster"
    real.write_text(REAL_CLUSTER)
    monkeypatch.delenv("FOUND_LIBRARY", raising=False)
    monkeypatch.delenv("FDB_CLUSTER_FILE", raising=False)
    engine = found.engine.library_path()
    assert _library.resolve(str(tmp_path / "db")) == ("embedded", engine)
    assert _library.resolve(str(real))[0] == "system"
    assert _library.resolve(str(real), library="embedded") == ("embedded", engine)
    assert _library.resolve(str(tmp_path), library="/opt/libfdb_c.so") == ("system", "/opt/libfdb_c.so")
    monkeypatch.setenv("FDB_CLUSTER_FILE", str(real))
    assert _library.resolve(None)[0] == "system"
    monkeypatch.setenv("FOUND_LIBRARY", "embedded")
    assert _library.resolve(None) == ("embedded", engine)
    monkeypatch.setenv("FOUND_LIBRARY", "/x/libfdb_c.so")
    assert _library.resolve(str(tmp_path)) == ("system", "/x/libfdb_c.so")


async def test_library_is_queryable(db):
    kind, path = found.library()
    assert kind == "embedded" and path == found.engine.library_path()
    assert db.library == (kind, path)


async def test_conflicting_choice_raises(db, tmp_path):
    with pytest.raises(found.LibraryError, match="one FoundationDB library per process"):
        await found.open(str(tmp_path / "other"), library="/nonexistent/libfdb_c.so")


def test_real_cluster_never_falls_back(tmp_path):
    """A real cluster file with no loadable libfdb_c is an error, not the engine."""
    real = tmp_path / "fdb.cluster"
    real.write_text(REAL_CLUSTER)
    assert_open_refused("never falls back", str(real), env={"LD_LIBRARY_PATH": str(tmp_path)})


def test_engine_on_the_library_path_is_not_taken_for_libfdb_c(tmp_path):
    """Even when the library path finds our engine under the name libfdb_c.so, a real cluster is refused."""
    real = tmp_path / "fdb.cluster"
    real.write_text(REAL_CLUSTER)
    assert_open_refused(
        "is found's embedded engine", str(real), env={"LD_LIBRARY_PATH": os.path.dirname(found.engine.library_path())}
    )


def test_environment_cluster_file_is_honoured(tmp_path):
    real = tmp_path / "fdb.cluster"
    real.write_text(REAL_CLUSTER)
    assert_open_refused("", env={"FDB_CLUSTER_FILE": str(real)})


def test_explicit_library_path_and_logging(tmp_path):
    done = run_python(
        """
        import asyncio, logging, sys, found, found.engine
        logging.basicConfig(level=logging.INFO, format="%(name)s %(message)s")
        async def main():
            db = await found.open(sys.argv[1], library=found.engine.library_path())
            await found.transactional(db, found.set, b"a", b"b")
            await found.open(sys.argv[1], library=found.engine.library_path())
            print(found.library()[0])
        asyncio.run(main())
    """,
        str(tmp_path / "db"),
    )
    assert done.stdout.strip() == "embedded"  # the bundled engine's own path
    # One INFO line per open, naming the data directory and the library.
    line = "found found: opened data directory %s with the embedded library %s" % (
        tmp_path / "db",
        found.engine.library_path(),
    )
    assert done.stderr.splitlines() == [line, line]


def test_embedded_cluster_file_and_environment(tmp_path):
    pointer = tmp_path / "local.cluster"
    pointer.write_text("embedded:%s\n" % (tmp_path / "data"))
    run_python(
        """
        import asyncio, os, sys, found
        async def main():
            db = await found.open(sys.argv[1])
            await found.transactional(db, found.set, b"via", b"file")
            db = await found.open()  # $FDB_CLUSTER_FILE
            assert await found.transactional(db, found.get, b"via") == b"file"
            assert found.library()[0] == "embedded"
        asyncio.run(main())
    """,
        str(pointer),
        env={"FDB_CLUSTER_FILE": str(pointer)},
    )
    assert os.path.isdir(tmp_path / "data")


def test_client_version_before_open_loads_default(tmp_path):
    done = run_python(
        """
        import found
        print(found.get_client_version())
        print(found.library()[0])
    """,
        env={"FDB_CLUSTER_FILE": str(tmp_path / "db")},
    )
    version, kind = done.stdout.split()
    assert version.startswith("7.3") and kind == "embedded"


def test_python_m_found_engine_prints_path():
    done = subprocess.run([sys.executable, "-m", "found.engine"], capture_output=True, text=True, cwd=ROOT, check=True)
    path = done.stdout.strip()
    assert path == found.engine.library_path() and os.path.isfile(path)


def test_default_directory_is_where_the_engine_goes(tmp_path):
    done = run_python(
        """
        import asyncio, found
        async def main():
            db = await found.open()
            await found.transactional(db, found.set, b"a", b"b")
        asyncio.run(main())
        print(found.engine.default_directory())
    """,
        env={"XDG_DATA_HOME": str(tmp_path), "FDB_CLUSTER_FILE": ""},
    )
    assert done.stdout.strip() == str(tmp_path / "found" / "engine")
    assert os.listdir(tmp_path / "found" / "engine")  # the engine's files are there


NEEDS_CPYTHON = pytest.mark.skipif(
    sys.implementation.name != "cpython", reason="the official binding (fdb) uses ctypes.pythonapi: CPython only"
)


@NEEDS_CPYTHON
async def test_official_binding_reads_what_found_wrote(db, directory):
    """The engine is a libfdb_c for other bindings too (fdb loaded on it by path)."""
    await found.transactional(db, found.set, found.pack(("k", 1)), b"from found")
    run_python(
        """
        import ctypes, sys, found.engine
        ctypes.CDLL(found.engine.library_path(), mode=ctypes.RTLD_GLOBAL)
        import fdb
        fdb.api_version(730)
        db = fdb.open(sys.argv[1])
        assert db[fdb.tuple.pack(("k", 1))] == b"from found"
    """,
        directory,
    )


@NEEDS_CPYTHON
def test_found_and_the_official_binding_share_one_process(tmp_path):
    """fdb set the library up first (API version, network): found uses the same library and network."""
    (tmp_path / "db").mkdir()  # fdb.open, like FoundationDB, wants an existing location (1515)
    run_python(
        """
        import asyncio, ctypes, sys, found, found.engine
        ctypes.CDLL(found.engine.library_path(), mode=ctypes.RTLD_GLOBAL)
        import fdb
        fdb.api_version(730)
        fdb_db = fdb.open(sys.argv[1])
        fdb_db[b"from fdb"] = b"1"
        async def main():
            db = await found.open(sys.argv[1])
            assert await found.transactional(db, found.get, b"from fdb") == b"1"
            await found.transactional(db, found.set, b"from found", b"2")
            tx = found.make_transaction(db)
            watch = found.watch(tx, b"from found")
            await found.commit(tx)
            fdb_db[b"from found"] = b"3"
            await asyncio.wait_for(watch, 30)
        asyncio.run(main())
        assert fdb_db[b"from found"] == b"3"
        assert found.library()[0] == "embedded"
    """,
        str(tmp_path / "db"),
    )


def test_a_library_without_the_api_is_refused_clearly(tmp_path):
    run_python(
        """
        import asyncio, ctypes.util, sys, found
        libm = ctypes.util.find_library("m")
        async def main():
            try:
                await found.open(sys.argv[1], library=libm)
            except found.LibraryError as exc:
                assert "does not export fdb_" in str(exc), exc
            else:
                raise AssertionError("loaded libm as libfdb_c")
            try:
                await found.open(sys.argv[1], library="/nonexistent/libfdb_c.so")
            except found.LibraryError as exc:
                assert "cannot load /nonexistent/libfdb_c.so" in str(exc), exc
            else:
                raise AssertionError("loaded a missing file")
            assert found.library() is None
            db = await found.open(sys.argv[1])  # nothing was loaded: the engine still can be
            await found.transactional(db, found.set, b"a", b"b")
        asyncio.run(main())
    """,
        str(tmp_path / "db"),
    )


@NEEDS_CPYTHON
def test_found_first_then_the_official_binding(tmp_path):
    """found opens before fdb started its network: fdb's own init runs the network, both work."""
    run_python(
        """
        import asyncio, ctypes, sys, found, found.engine
        ctypes.CDLL(found.engine.library_path(), mode=ctypes.RTLD_GLOBAL)
        import fdb
        fdb.api_version(730)
        async def main():
            db = await found.open(sys.argv[1])
            await found.transactional(db, found.set, b"from found", b"1")
        asyncio.run(main())
        fdb_db = fdb.open(sys.argv[1])  # would fail with 2009 had found set the network up itself
        assert fdb_db[b"from found"] == b"1"
    """,
        str(tmp_path / "db"),
    )


async def test_open_makes_the_directory_of_a_new_embedded_database(tmp_path):
    """The engine answers 1515 for a missing path, as FoundationDB; found.open creates it first."""
    target = tmp_path / "new" / "db"
    db = await found.open(str(target))
    await found.transactional(db, found.set, b"k", b"v")
    assert target.is_dir()


async def test_open_reports_a_missing_cluster_file_at_once(tmp_path):
    with pytest.raises(found.FoundException) as e:
        await found.open(str(tmp_path / "missing.cluster"))
    assert e.value.code == 1515 and "missing.cluster" in e.value.message
