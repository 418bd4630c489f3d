"""A full filesystem gives an error naming the file, never SIGBUS (issue 12, item 3).

Each case runs in a child process inside a private mount namespace on a
small tmpfs (`unshare --mount`, as root or through a user namespace), then
fills it to the last byte. LMDB maps lock.mdb shared: before the fix a page
of reader slots the filesystem could not allocate killed the process with
SIGBUS — when a store was created, and when a later snapshot (the Nth
process, or here the Nth snapshot held at once) reached a new page of slots.
"""

import shutil
import signal
import subprocess
import sys
import textwrap

import pytest

_PRELUDE = """
import ctypes, os, sys
ctypes.CDLL(sys.argv[1], mode=ctypes.RTLD_GLOBAL)
import fdb
fdb.api_version(730)
MOUNT = sys.argv[2]

def fill(path):
    # every byte the filesystem has left
    with open(path, "wb", buffering=0) as f:
        for size in (1 << 20, 4096, 1):
            while True:
                try:
                    f.write(b"x" * size)
                except OSError:
                    break
"""

# A new store on a full filesystem (its empty directory made first: the
# engine, like FoundationDB, refuses a path that does not exist). As in
# FoundationDB, a database's creation error surfaces at its first operation.
_NEW_STORE = """
os.mkdir(MOUNT + "/db")
fill(MOUNT + "/filler")
try:
    db = fdb.open(cluster_file=MOUNT + "/db")
    db[b"k"]
except fdb.FDBError as exc:
    print("error", exc.code)
else:
    print("opened")
"""

# An existing store (made by another process, which leaves room in it: 13 MB
# written, then cleared), the filesystem then filled: 100 snapshots held at
# once (each after a commit, so each claims a reader slot of its own) reach
# well past the first page of reader slots.
_MAKE_ROOM = """
os.makedirs(MOUNT + "/db", exist_ok=True)
db = fdb.open(cluster_file=MOUNT + "/db")
for i in range(150):
    db[b"big%d" % i] = b"v" * 90000
del db[b"big":b"bih"]
db[b"after"] = b"1"      # LMDB reuses pages freed before the oldest snapshot
"""
_MANY_SNAPSHOTS = """
import subprocess
subprocess.run([sys.executable, "-c", PRELUDE + MAKE_ROOM, *sys.argv[1:]], check=True)
fill(MOUNT + "/filler")
db = fdb.open(cluster_file=MOUNT + "/db")
held, versions, failed = [], set(), 0
for i in range(100):
    tr = db.create_transaction()
    versions.add(tr.get_read_version().wait())
    held.append(tr)
    try:
        db[b"k%d" % i] = b"x"
    except fdb.FDBError:
        failed += 1
print("snapshots", len(versions), "failed", failed)
""".replace("PRELUDE + MAKE_ROOM", repr(textwrap.dedent(_PRELUDE) + textwrap.dedent(_MAKE_ROOM)))


def _unshare_prefix():
    """The command that runs another in a private mount namespace, or None."""
    unshare = shutil.which("unshare")
    if not unshare:
        return None
    for prefix in ([unshare, "--mount"], [unshare, "--mount", "--map-root-user"]):
        if subprocess.run(prefix + ["true"], capture_output=True).returncode == 0:
            return prefix
    return None


def _run_on_small_fs(engine_lib, tmp_path, body, size):
    prefix = _unshare_prefix()
    if prefix is None:
        pytest.skip("cannot mount a small filesystem here (needs root or unprivileged user namespaces)")
    mount = tmp_path / "fs"
    mount.mkdir()
    script = textwrap.dedent(_PRELUDE) + textwrap.dedent(body)
    shell = 'mount -t tmpfs -o size="$3" tmpfs "$2" && exec "$0" -c "$1" "$4" "$2"'
    done = subprocess.run(
        prefix + ["sh", "-c", shell, sys.executable, script, str(mount), size, engine_lib],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != -signal.SIGBUS and done.returncode != 128 + signal.SIGBUS, done.stderr
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_creating_a_store_on_a_full_filesystem_is_an_error(engine_lib, tmp_path):
    assert _run_on_small_fs(engine_lib, tmp_path, _NEW_STORE, "1m") == ["error", "1510"]


def test_a_new_snapshot_on_a_full_filesystem_never_faults(engine_lib, tmp_path):
    out = _run_on_small_fs(engine_lib, tmp_path, _MANY_SNAPSHOTS, "24m")
    assert out[0] == "snapshots" and int(out[1]) >= 70, out  # well past the 61 slots of the first page
