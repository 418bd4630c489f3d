"""Fixtures of the tuple-layer tests.

``codec`` runs a test once per implementation: the C extension
``found._ctuple`` and the pure-Python reference ``found._tuple_py``.

``fdb_tuple`` is the official ``fdb.tuple`` ready to pack Versionstamps: its
Versionstamp.to_bytes reaches into ``fdb.impl``, whose import loads
``libfdb_c.so``. That library is our embedded engine (SONAME libfdb_c.so);
loading it RTLD_GLOBAL first lets fdb.impl's own dlopen find it. The engine
is located, or built with its Makefile when only its sources exist.
"""
import ctypes
import glob
import importlib.util
import os
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


@pytest.fixture(scope="session", params=["c", "python"])
def codec(request):
    """The C codec, then the pure-Python one (a missing C build fails, not skips)."""
    if request.param == "c":
        try:
            return _c_codec()
        except ImportError as exc:
            pytest.fail(
                "found._ctuple is not built (FOUND_BUILD=tuple python3 setup.py build_ext --inplace): %s" % exc
            )
    return _python_codec()


def _engine_library():
    for path in ENGINE_CANDIDATES:
        if os.path.exists(path):
            return path
    if glob.glob(os.path.join(ROOT, "ffi", "engine", "*.c")):
        subprocess.run(["make", "-C", os.path.join(ROOT, "ffi", "engine")], check=False, timeout=600)
    for path in ENGINE_CANDIDATES:
        if os.path.exists(path):
            return path
    return None


@pytest.fixture(scope="session")
def fdb_tuple():
    """fdb.tuple with fdb.impl importable (needed to pack Versionstamps)."""
    if "fdb.impl" not in sys.modules:
        path = _engine_library()
        if path is None:
            pytest.fail(
                "fdb.tuple needs libfdb_c.so to pack Versionstamps and the engine is neither built "
                "(%s) nor buildable with `make -C ffi/engine`" % " or ".join(ENGINE_CANDIDATES)
            )
        ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
        import fdb.impl  # noqa: F401  (loads the library found above)
    import fdb.tuple

    return fdb.tuple
