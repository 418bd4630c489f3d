"""A client process for the storage tests: loads the engine into the official
`fdb` binding and runs one workload, reporting on stdout line by line.

    python fdb_child.py LIB DIR MODE [ARGS...]

Run as a separate process so each workload gets its own network thread and
so the parent can kill it with SIGKILL at any instant.
"""

import ctypes
import struct
import sys
import threading

_print_lock = threading.Lock()


def _load(lib):
    """The fdb module on the engine `lib`, and the engine's ctypes handle."""
    engine = ctypes.CDLL(lib, mode=ctypes.RTLD_GLOBAL)  # fdb's dlopen("libfdb_c.so") finds it
    import fdb

    fdb.api_version(730)
    return fdb, engine


def _say(*parts):
    """One line on stdout, flushed at once (the parent reads as we go)."""
    sys.stdout.write(" ".join(str(p) for p in parts) + "\n")
    sys.stdout.flush()


def ack(fdb, db, run, count, threads=4):
    """Commit keys (run, thread, i) one transaction each from several threads
    (so commits share group-commit batches); print each acknowledged key.
    First print every key already present, so the parent can check them."""
    for k, v in db.get_range(b"ack/", b"ack0"):
        _say("have", k.decode(), v.decode())
    _say("ready")

    def writer(t):
        for i in range(int(count)):
            key = b"ack/%s/%d/%06d" % (run.encode(), t, i)
            db[key] = key[::-1]
            with _print_lock:
                _say("acked", key.decode())

    workers = [threading.Thread(target=writer, args=(t,)) for t in range(int(threads))]
    for w in workers:
        w.start()
    for w in workers:
        w.join()


def add(fdb, db, n):
    """n atomic adds, then n read-modify-write increments (retried on conflict)."""

    @fdb.transactional
    def add_one(tr):
        tr.add(b"counter/add", struct.pack("<q", 1))

    @fdb.transactional
    def rmw_one(tr):
        v = tr[b"counter/rmw"]
        tr[b"counter/rmw"] = struct.pack("<q", (struct.unpack("<q", bytes(v))[0] if v.present() else 0) + 1)

    for _ in range(int(n)):
        add_one(db)
    for _ in range(int(n)):
        rmw_one(db)
    _say("done")


def stamps(fdb, db, name, n):
    """n transactions each writing a versionstamped key; print each stamp."""
    for i in range(int(n)):
        tr = db.create_transaction()
        key = fdb.tuple.pack_with_versionstamp((b"vs", fdb.tuple.Versionstamp(), name.encode(), i))
        tr.set_versionstamped_key(key, b"")
        f = tr.get_versionstamp()
        tr.commit().wait()
        _say("stamp", f.wait().hex(), i)


def watch(fdb, db, key):
    """Arm a watch on key, say so, and report when it fires."""

    @fdb.transactional
    def arm(tr):
        return tr.watch(key.encode())

    w = arm(db)
    _say("armed")
    w.wait()
    _say("fired", db[key.encode()].decode())


def setkey(fdb, db, key, value):
    """Set one key, say so."""
    db[key.encode()] = value.encode()
    _say("set")


def read_versions(fdb, db):
    """set_read_version: an older retained version reads the old state, a
    version past the last commit is 1009, a long-gone one 1007."""
    db[b"rv"] = b"old"
    v_old = db.create_transaction().get_read_version().wait()
    db[b"rv"] = b"new"
    tr = db.create_transaction()
    tr.set_read_version(v_old)
    _say("old", tr[b"rv"].decode())
    for version in (db.create_transaction().get_read_version().wait() + 10**9, 1):
        tr = db.create_transaction()
        tr.set_read_version(version)
        try:
            tr[b"rv"].wait()
            _say("read")
        except fdb.FDBError as e:
            _say("error", e.code)


def serve(fdb, db):
    """Apply JSON-lines requests from stdin, answer each with one JSON line:
    {"clear": [b, e]} / {"set": [[k, v], ...]} / {"range": [b, e, reverse]}
    (keys and values hex), range → [[k, v], ...]."""
    import json

    for line in sys.stdin:
        req = json.loads(line)
        tr = db.create_transaction()
        if "set" in req:
            for k, v in req["set"]:
                tr[bytes.fromhex(k)] = bytes.fromhex(v)
            tr.commit().wait()
            out = "ok"
        elif "clear" in req:
            tr.clear_range(*map(bytes.fromhex, req["clear"]))
            tr.commit().wait()
            out = "ok"
        else:
            b, e, reverse = req["range"]
            out = [[k.hex(), v.hex()] for k, v in tr.get_range(bytes.fromhex(b), bytes.fromhex(e), reverse=reverse)]
        _say(json.dumps(out))


def bulk(fdb, db, n, commits=1):
    """n keys with 40-byte values (and one long key) written in `commits` transactions."""
    n, commits = int(n), int(commits)
    for c in range(commits):
        tr = db.create_transaction()
        for i in range(c, n, commits):
            tr[b"bulk/%06d" % i] = b"v" * 40
        tr[b"long/" + b"k" * 600 + b"%d" % c] = b"long"
        tr.commit().wait()
    _say("written")


def open_only(fdb, db):
    """Just open (errors are reported by main)."""
    _say("opened")


def main():
    """fdb_child.py LIB DIR MODE [ARGS...]; an open error is one line: error CODE DETAIL."""
    lib, directory, mode, *args = sys.argv[1:]
    fdb, engine = _load(lib)
    try:
        db = fdb.open(cluster_file=directory)
    except fdb.FDBError as e:
        engine.found_engine_last_error_detail.restype = ctypes.c_char_p
        _say("error", e.code, engine.found_engine_last_error_detail().decode())
        return
    globals()[mode](fdb, db, *args)


if __name__ == "__main__":
    main()
