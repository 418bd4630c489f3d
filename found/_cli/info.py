"""found info / found version: which library, where the data lives, how big it is."""

import ctypes
import json
import os
import subprocess
import sys
from typing import Any, Dict, Optional

import found
from found import _dump
from found._cli.common import EXIT_OK, add_db, command, open_db
from found._cli.progress import human_bytes

_COUNT_EXACTLY = 100_000  # pairs counted one by one before the count is estimated
_MDB_RDONLY = 0x20000


def version_line() -> str:
    """``found X.Y.Z (API 730, client library …)``."""
    text = "found %s (API %d" % (".".join(map(str, found.__VERSION__)), found.VERSION)
    try:
        text += ", client %s" % found.get_client_version()
    except found.BaseFoundException as exc:
        text += ", no client library: %s" % exc
    return text + ")"


async def version(args) -> int:
    """Print found's version, its API version and the client library's version."""
    print(version_line())
    return EXIT_OK


def engine_directory(db: Optional[str]) -> str:
    """The data directory the engine uses for ``db`` (docs/engine.md, "Which directory")."""
    if not db:
        db = os.environ.get("FDB_CLUSTER_FILE") or None
    if not db:
        return found.engine.default_directory()
    if os.path.isfile(db):
        with open(db, encoding="utf-8", errors="replace") as f:
            text = f.read(65536).strip()
        if text.startswith("embedded:"):
            return os.path.join(os.path.dirname(os.path.abspath(db)), text[len("embedded:") :])
    return os.path.abspath(db)


def _file_sizes(directory: str) -> Dict[str, Dict[str, int]]:
    sizes = {}
    for name in sorted(os.listdir(directory)) if os.path.isdir(directory) else []:
        st = os.stat(os.path.join(directory, name))
        sizes[name] = {"size": st.st_size, "on_disk": st.st_blocks * 512}
    return sizes


def reader_slots(directory: str) -> Optional[Dict[str, int]]:
    """LMDB reader slots of an engine directory, read in a child process (None when unknown).

    A child, because LMDB forbids opening one environment twice in a process
    (closing the second handle would drop the first one's file locks).  The
    child asks LMDB itself — through the engine library, which links it — for
    the reader table, read-only; it takes no slot of its own.
    """
    code = "import sys, json; from found._cli.info import _reader_table; print(json.dumps(_reader_table(sys.argv[1])))"
    try:
        done = subprocess.run([sys.executable, "-c", code, directory], capture_output=True, text=True, timeout=30)
        return json.loads(done.stdout) if done.returncode == 0 else None
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None


class _EnvInfo(ctypes.Structure):
    _fields_ = [
        ("mapaddr", ctypes.c_void_p),
        ("mapsize", ctypes.c_size_t),
        ("last_pgno", ctypes.c_size_t),
        ("last_txnid", ctypes.c_size_t),
        ("maxreaders", ctypes.c_uint),
        ("numreaders", ctypes.c_uint),
    ]


def _reader_table(directory: str) -> Dict[str, int]:
    """(in the child) {"in_use", "reading", "max", "high_water"} from LMDB's mdb_reader_list/mdb_env_info."""
    lmdb = ctypes.CDLL(found.engine.library_path())  # its dependencies' symbols (liblmdb) resolve through it
    env = ctypes.c_void_p()
    if lmdb.mdb_env_create(ctypes.byref(env)):
        raise SystemExit(1)
    lmdb.mdb_env_set_mapsize(env, ctypes.c_size_t(1 << 20))  # read-only: LMDB takes the file's size if larger
    if lmdb.mdb_env_open(env, directory.encode(), _MDB_RDONLY, 0o644):
        raise SystemExit(1)
    lines = []
    callback_type = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)
    callback = callback_type(lambda message, ctx: lines.append(message.decode()) or 0)
    lmdb.mdb_reader_list(env, callback, None)
    info = _EnvInfo()
    lmdb.mdb_env_info(env, ctypes.byref(info))
    rows = [line.split() for line in "".join(lines).splitlines()[1:] if line.strip()]
    rows = [row for row in rows if len(row) == 3]
    return {
        "in_use": len(rows),
        "reading": sum(row[2] != "-" for row in rows),
        "max": info.maxreaders,
        "high_water": info.numreaders,
    }


async def _count(db, exact: bool) -> Dict[str, Any]:
    """Pairs and bytes of the whole user key space: exact up to a bound (or with --exact), else estimated."""
    reader = _dump._Reader(db, b"\xff", False, False)
    estimate = await reader.estimate(b"")
    pairs = size = 0
    cursor = b""
    while True:
        keys, _, block_bytes, _ = await reader.block(cursor, _dump.BLOCK_BYTES)
        if not keys:
            return {"pairs": pairs, "bytes": size, "exact": True}
        pairs += len(keys)
        size += block_bytes
        cursor = keys[-1] + b"\x00"
        if not exact and pairs >= _COUNT_EXACTLY and estimate:
            return {"pairs": round(estimate / (size / pairs)), "bytes": estimate, "exact": False}


async def gather(db_arg: Optional[str], exact: bool) -> Dict[str, Any]:
    """Everything ``found info`` reports, as a dict (``--json`` prints it as is)."""
    db = await open_db(db_arg)
    kind, path = found.library()
    report: Dict[str, Any] = {
        "found": ".".join(map(str, found.__VERSION__)),
        "api_version": found.VERSION,
        "library": kind,
        "library_path": path,
        "client_version": found.get_client_version(),
    }
    if kind == "embedded":
        directory = engine_directory(db_arg)
        report["data_directory"] = directory
        report["files"] = _file_sizes(directory)
        report["reader_slots"] = reader_slots(directory)
    else:
        report["cluster_file"] = db_arg or os.environ.get("FDB_CLUSTER_FILE") or "/etc/foundationdb/fdb.cluster"
    report["read_version"] = await found.transactional(db, found.read_version, snapshot=True)
    report["keys"] = await _count(db, exact)
    return report


def _text(report: Dict[str, Any]) -> str:
    lines = [
        "found:          %s (API %d)" % (report["found"], report["api_version"]),
        "library:        %s %s" % (report["library"], report["library_path"]),
        "client version: %s" % report["client_version"],
    ]
    if "data_directory" in report:
        lines.append("data directory: %s" % report["data_directory"])
        for name, size in report["files"].items():
            lines.append("  %-12s  %s (%s on disk)" % (name, human_bytes(size["size"]), human_bytes(size["on_disk"])))
        slots = report["reader_slots"]
        lines.append(
            "reader slots:   "
            + ("unknown" if slots is None else "%(in_use)d in use (%(reading)d holding a snapshot) of %(max)d" % slots)
        )
    else:
        lines.append("cluster file:   %s" % report["cluster_file"])
    keys = report["keys"]
    approx = "" if keys["exact"] else "~"
    lines.append(
        "keys:           %s%d%s" % (approx, keys["pairs"], "" if keys["exact"] else " (estimated; --exact counts)")
    )
    lines.append(
        "size:           %s%s (keys + values%s)"
        % (approx, human_bytes(keys["bytes"]), "" if keys["exact"] else ", estimated")
    )
    lines.append("read version:   %d" % report["read_version"])
    return "\n".join(lines)


async def info(args) -> int:
    """Print where the data lives and how big it is."""
    report = await gather(args.db, args.exact)
    print(json.dumps(report, indent=2) if args.json else _text(report))
    return EXIT_OK


def register(sub) -> None:
    """Add info and version to the subcommand parsers."""
    p = command(
        sub,
        "info",
        info,
        "library, data location, file sizes, key count",
        "Show the FoundationDB library in use, the data directory or cluster file, the "
        "engine's files and reader slots, the number of keys and their size (counted "
        "exactly up to %d pairs, estimated beyond unless --exact) and the read "
        "version." % _COUNT_EXACTLY,
        [
            "found info",
            "found info ./data",
            "found info /etc/foundationdb/fdb.cluster",
            "found info ./data --exact --json",
        ],
    )
    add_db(p, positional=True)
    p.add_argument("--exact", action="store_true", help="count every key (reads the whole key space)")
    p.add_argument("--json", action="store_true", help="print a JSON object instead of text")

    command(
        sub,
        "version",
        version,
        "print found's and the client library's versions",
        "Print found's version, its FoundationDB API version and the client library's.",
        ["found version", "FOUND_LIBRARY=/usr/lib/libfdb_c.so found version"],
    )
