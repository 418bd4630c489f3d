"""The engine under test, loaded for the OFFICIAL FoundationDB Python binding
(foundationdb 7.3.69, unchanged). Imported by conftest.py and the tests
(a module name of its own: every test area has a conftest.py).

The binding loads ``ctypes.CDLL("libfdb_c.so")``. Loading our engine first
with RTLD_GLOBAL under its SONAME ``libfdb_c.so`` makes the dynamic loader
hand that same library to the binding (checked by test_loading.py).

Which engine: $FOUND_ENGINE_LIB if set, else found/_lib/libfdb_c.so, built
(``FOUND_BUILD=engine python3 setup.py build_ext --inplace``) when missing
or older than ffi/engine's sources.
"""

import ctypes
import glob
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILT = os.path.join(ROOT, "found", "_lib", "libfdb_c.so")


def _stale(lib):
    if not os.path.exists(lib):
        return True
    sources = glob.glob(os.path.join(ROOT, "ffi", "engine", "*", "*.[ch]")) + [
        os.path.join(ROOT, "ffi", "engine", "exports.map")
    ]
    newest = max(os.path.getmtime(s) for s in sources if os.path.exists(s))
    return newest > os.path.getmtime(lib)


def engine_path():
    """Path of the engine library under test (built if needed)."""
    explicit = os.environ.get("FOUND_ENGINE_LIB")
    if explicit:
        return os.path.abspath(explicit)
    if _stale(BUILT):
        env = dict(os.environ, FOUND_BUILD="engine")
        done = subprocess.run(
            [sys.executable, "setup.py", "-q", "build_ext", "--inplace"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        if done.returncode != 0:
            if not os.path.exists(BUILT):
                raise RuntimeError("building the engine failed:\n" + done.stderr[-4000:])
            # A shared checkout may hold someone's half-edited C: test the
            # last good build, loudly.
            sys.stderr.write("tests/engine: rebuild failed, testing the previous build of %s\n" % BUILT)
    return BUILT


ENGINE = engine_path()
CAPI = ctypes.CDLL(ENGINE, mode=ctypes.RTLD_GLOBAL)

import fdb  # noqa: E402  (must come after the engine is loaded)

fdb.api_version(730)
import fdb.impl  # noqa: E402

CAPI.found_engine_last_error_detail.restype = ctypes.c_char_p
CAPI.fdb_get_error.restype = ctypes.c_char_p
CAPI.fdb_get_client_version.restype = ctypes.c_char_p


def error_code(fn):
    """The FoundationDB error code fn() raises through the official binding, 0 when it returns."""
    try:
        fn()
    except fdb.FDBError as e:
        return e.code
    return 0
