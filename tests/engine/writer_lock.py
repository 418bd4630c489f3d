"""Hold an engine directory's LMDB writer lock from another process.

While it is held no batch of any process can commit, so a test can act on a
commit that is certain to be still pending, however the machine schedules
its threads (no race to lose against a fast fsync).
"""

import contextlib
import subprocess
import sys

_HOLDER = r"""
import ctypes, ctypes.util, sys
lib = ctypes.CDLL(ctypes.util.find_library("lmdb"))
env, txn = ctypes.c_void_p(), ctypes.c_void_p()
assert lib.mdb_env_create(ctypes.byref(env)) == 0
assert lib.mdb_env_set_maxdbs(env, 8) == 0
assert lib.mdb_env_open(env, sys.argv[1].encode(), 0x200000, 0o644) == 0   # MDB_NOTLS
assert lib.mdb_txn_begin(env, None, 0, ctypes.byref(txn)) == 0             # takes the writer lock
print("held", flush=True)
sys.stdin.readline()
lib.mdb_txn_abort(txn)
lib.mdb_env_close(env)
"""


@contextlib.contextmanager
def writer_lock_held(directory: str):
    """Within the block, commits to ``directory`` queue but cannot complete."""
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, directory], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout.readline() == "held\n"
        yield
    finally:
        child.stdin.close()  # the holder aborts its write transaction and exits
        assert child.wait(60) == 0
