"""Fixtures of the tuple-layer tests.

``codec`` runs a test once per implementation: the C extension
``found._ctuple`` (on CPython, where found uses it) and the pure-Python
reference ``found._tuple_py``.

``fdb_tuple`` is the official ``fdb.tuple`` ready to pack Versionstamps: its
Versionstamp.to_bytes reaches into ``fdb.impl``, whose import loads
``libfdb_c.so``. That library is our embedded engine (SONAME libfdb_c.so);
loading it RTLD_GLOBAL first lets fdb.impl's own dlopen find it. The engine
is $FOUND_LIBRARY when that is a path, else the bundled or Makefile build,
built with the Makefile when none loads. On PyPy, where fdb.impl cannot be
imported at all, a stand-in gives fdb.tuple the one name it uses.
"""

import ctypes
import glob
import importlib.util
import os
import platform
import subprocess
import sys
import types

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENGINE_CANDIDATES = (
    os.path.join(ROOT, "found", "_lib", "libfdb_c.so"),
    os.path.join(ROOT, "ffi", "engine", "build", "libfdb_c.so"),
)


def _c_tuple_module():
    """found.tuple running on the C codec, even when FOUND_PURE_TUPLE=1 is set."""
    import found.tuple

    if found.tuple.IMPLEMENTATION == "c":
        return found.tuple
    spec = importlib.util.find_spec("found.tuple")
    module = importlib.util.module_from_spec(spec)
    saved = os.environ.pop("FOUND_PURE_TUPLE", None)
    try:
        spec.loader.exec_module(module)
    finally:
        if saved is not None:
            os.environ["FOUND_PURE_TUPLE"] = saved
    return module


def _c_codec():
    from found import _ctuple

    module = _c_tuple_module()
    assert module.IMPLEMENTATION == "c"
    return types.SimpleNamespace(
        name="c",
        pack=_ctuple.pack,
        unpack=_ctuple.unpack,
        pack_with_versionstamp=_ctuple.pack_with_versionstamp,
        has_incomplete_versionstamp=module.has_incomplete_versionstamp,
        range=module.range,
        compare=module.compare,
    )


def _python_codec():
    from found import _tuple_py

    return types.SimpleNamespace(
        name="python",
        pack=_tuple_py.pack,
        unpack=_tuple_py.unpack,
        pack_with_versionstamp=_tuple_py.pack_with_versionstamp,
        has_incomplete_versionstamp=_tuple_py.has_incomplete_versionstamp,
        range=_tuple_py.range,
        compare=_tuple_py.compare,
    )


# found runs the C codec on CPython only (PyPy uses the pure-Python one even
# where cpyext builds the extension), so that is where it is tested.
CODECS = ["c", "python"] if platform.python_implementation() == "CPython" else ["python"]


@pytest.fixture(scope="session", params=CODECS)
def codec(request):
    """The C codec, then the pure-Python one (a missing C build fails, not skips)."""
    if request.param == "c":
        try:
            return _c_codec()
        except ImportError as exc:
            pytest.fail("found._ctuple is not built (FOUND_BUILD=tuple python3 setup.py build_ext --inplace): %s" % exc)
    return _python_codec()


def _load_engine():
    """Loads the first engine build that loads; builds one if none does.
    Returns the list of failures (empty on success)."""
    failures = []
    chosen = os.environ.get("FOUND_LIBRARY", "")
    candidates = ((chosen,) if os.path.isabs(chosen) else ()) + ENGINE_CANDIDATES
    for attempt in range(2):
        for path in candidates:
            if not os.path.exists(path):
                failures.append("%s: not built" % path)
                continue
            try:
                ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
                return []
            except OSError as exc:
                failures.append("%s: %s" % (path, exc))
        if attempt == 0 and glob.glob(os.path.join(ROOT, "ffi", "engine", "*.c")):
            subprocess.run(["make", "-C", os.path.join(ROOT, "ffi", "engine")], check=False, timeout=600)
    return failures


def _stand_in_for_fdb_impl():
    """PyPy: fdb.impl cannot be imported at all (it needs ctypes.pythonapi).
    fdb.tuple uses it only for ``isinstance(tr_version, fdb.impl.Value)`` in
    Versionstamp.to_bytes; a module whose Value nothing is an instance of
    gives exactly the behaviour for the bytes versions the tests use."""
    import fdb

    impl = types.ModuleType("fdb.impl", "stand-in for fdb.impl (tests/tuple/conftest.py, PyPy only)")
    impl.Value = type("Value", (), {})
    sys.modules["fdb.impl"] = impl
    fdb.impl = impl


@pytest.fixture(scope="session")
def fdb_tuple():
    """fdb.tuple with fdb.impl importable (needed to pack Versionstamps)."""
    if "fdb.impl" not in sys.modules and platform.python_implementation() != "CPython":
        _stand_in_for_fdb_impl()
    if "fdb.impl" not in sys.modules:
        failures = _load_engine()
        if failures:
            pytest.fail(
                "fdb.tuple needs libfdb_c.so (the engine) to pack Versionstamps; none loads and "
                "`make -C ffi/engine` did not produce one:\n" + "\n".join(failures)
            )
        import fdb.impl  # noqa: F401  (finds the library loaded above by its SONAME)
    import fdb.tuple

    return fdb.tuple
