"""`import found` loads only what is used: modules that only some programs
need are imported when first needed (each check runs in a fresh interpreter)."""

import sys

import pytest

from driver_support import run_python

LAZY = [
    "ctypes",
    "ctypes.util",
    "tempfile",
    "found._tuple_py",
    "uuid",
    "platform",
    "found._directory",
    "found._hca",
    "found._dump",
]


def test_import_and_open_leave_the_lazy_modules_out(tmp_path):
    done = run_python(
        """
        import asyncio, sys, found
        async def main():
            db = await found.open(sys.argv[1])
            async def work(tx):
                await found.set(tx, found.pack(("k", 1, b"x")), b"v")
                return await found.all(found.query(tx, b"", b"\\xff"))
            await found.transactional(db, work)
        asyncio.run(main())
        print(" ".join(sorted(m for m in %r if m in sys.modules)))
    """
        % (LAZY,),
        str(tmp_path / "db"),
    )
    loaded = done.stdout.split()
    if sys.implementation.name != "cpython":
        # the pure-Python tuple codec is the one in use there, and it imports uuid (which imports platform)
        loaded = [m for m in loaded if m not in ("found._tuple_py", "uuid", "platform")]
    assert loaded == []


@pytest.mark.skipif(sys.implementation.name != "cpython", reason="the C tuple codec is CPython's")
def test_c_codec_resolves_uuid_on_first_need():
    run_python("""
        import sys, found
        assert "uuid" not in sys.modules
        assert found.unpack(found.pack(("a", 1, None))) == ("a", 1, None)
        assert not found.has_incomplete_versionstamp(("a", 1))
        assert "uuid" not in sys.modules
        import uuid
        u = uuid.UUID(int=0x1234)
        assert found.tuple.IMPLEMENTATION == "c"
        packed = found.pack(("a", u))
        assert packed == b"\\x02a\\x000" + u.bytes
        assert found.unpack(packed) == ("a", u)
        assert not found.has_incomplete_versionstamp((u,))
    """)
    run_python("""
        import sys, found
        value = found.unpack(b"0" + bytes(range(16)))  # decoding a UUID imports uuid
        assert "uuid" in sys.modules
        import uuid
        assert value == (uuid.UUID(bytes=bytes(range(16))),) and type(value[0]) is uuid.UUID
    """)


def test_directory_and_dump_names_import_their_modules_on_first_use():
    run_python("""
        import sys, found
        assert "found._directory" not in sys.modules and "found._dump" not in sys.modules
        assert "directory" in dir(found) and "dump" in found.__all__
        layer = found.directory
        assert "found._directory" in sys.modules and "found._dump" not in sys.modules
        from found._directory import DirectoryLayer, directory
        assert layer is directory and found.DirectoryLayer is DirectoryLayer
        from found import DumpError, load
        assert "found._dump" in sys.modules and DumpError.__module__ == "found._dump" and callable(load)
        try:
            found.no_such_name
        except AttributeError as exc:
            assert "no_such_name" in str(exc)
        else:
            raise AssertionError("found.no_such_name did not raise AttributeError")
    """)
