"""found dump / load / copy as subprocesses: files, pipes, progress display, kill and resume, damage, the official binding."""

import json
import os
import pty
import select
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import found
from cli_support import digest, environment, ok, pairs_of, put, run_found

SAMPLE = [(b"a", b"1"), (b"b" * 600, b"long key"), (b"c", b"\x00" * 100_000), (b"d", b"")]


async def test_dump_load_files(directories, src, dst, tmp_path):
    await put(src, SAMPLE)
    dump_file = str(tmp_path / "all.fdump")
    done = ok("dump", directories[0], "-o", dump_file)
    assert "dumped 4 pairs (100.6 KB) in 1 block(s) to %s, consistent at read version" % dump_file in done.stderr
    assert not os.path.exists(dump_file + ".partial")
    done = ok("load", dump_file, directories[1])
    assert "loaded 4 pairs (100.6 KB) from 1 block(s) of %s; the dump was consistent" % dump_file in done.stderr
    assert await pairs_of(dst) == await pairs_of(src) == sorted(SAMPLE)
    assert not os.path.exists(dump_file + ".resume")


async def test_pipe_prefix_swap_and_copy(directories, src, dst, tmp_path):
    await put(src, [(b"app/1", b"x"), (b"app/2", b"y"), (b"other", b"z")])
    dumped = ok("dump", directories[0], "--prefix", "app/", "-o", "-", "--quiet").stdout
    assert dumped.startswith(b"FOUNDDMP")
    done = ok("load", "-", directories[1], "--prefix-swap", "app/", "v2/", input=dumped)
    assert await pairs_of(dst) == [(b"v2/1", b"x"), (b"v2/2", b"y")]
    third = str(tmp_path / "third")
    done = ok("copy", directories[0], third, "--begin", "app/2", "--end", "p")
    assert "loaded 2 pairs" in done.stderr
    copied = await found.open(third)
    assert await pairs_of(copied) == [(b"app/2", b"y"), (b"other", b"z")]


def test_copy_reports_a_failed_dump_side(directories, tmp_path):
    cluster = tmp_path / "bad.cluster"
    cluster.write_text("not a connection string\n")
    done = run_found("copy", str(cluster), directories[1])
    assert done.returncode == 1
    assert "found dump: FoundException:" in done.stderr  # the child's own message
    assert "found copy: the dump of %s failed (exit status 1)" % cluster in done.stderr


def test_dump_refuses_bad_ranges(directories):
    done = run_found("dump", directories[0], "-o", "-", "--end", "\\xff\\x01")
    assert done.returncode == 1 and "reaches system keys" in done.stderr
    done = run_found("dump", directories[0], "-o", "-", "--prefix", "\\xff/")
    assert done.returncode == 1 and "reaches system keys" in done.stderr
    done = run_found("dump", directories[0], "-o", "-", "--begin", "m", "--end", "a")
    assert done.returncode == 1 and "empty range" in done.stderr
    done = run_found("dump", directories[0])
    assert done.returncode == 2 and "--output/-o" in done.stderr


async def _many_blocks(src, tmp_path, pairs=20_000, block_bytes=8_000):
    await put(src, [(b"k%08d" % i, (b"%08d" % i) * 12) for i in range(pairs)], per_transaction=10_000)
    dump_file = str(tmp_path / "many.fdump")
    with open(dump_file, "wb") as out:
        summary = await found.dump(src, out, block_bytes=block_bytes)
    return dump_file, summary


async def test_damaged_file_through_the_command(directories, src, tmp_path):
    dump_file, summary = await _many_blocks(src, tmp_path, pairs=500, block_bytes=2_000)
    with open(dump_file, "rb") as f:
        data = bytearray(f.read())
    data[len(data) // 2] ^= 0xFF
    with open(dump_file, "wb") as f:
        f.write(data)
    done = run_found("load", dump_file, directories[1], "--quiet")
    assert done.returncode == 1
    assert done.stderr.startswith("found load: corrupt dump: block ") and "fails its checksum" in done.stderr
    with open(dump_file, "wb") as f:
        f.write(data[: len(data) // 3])
    done = run_found("load", dump_file, directories[1], "--quiet", "--no-resume")
    assert done.returncode == 1 and "found load: truncated dump: block " in done.stderr
    done = run_found("load", str(tmp_path / "missing.fdump"), directories[1])
    assert done.returncode == 1 and "found load: cannot read" in done.stderr


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGINT])
async def test_killed_load_resumes(directories, src, dst, tmp_path, stop):
    """Kill (or Ctrl-C) the loader mid-way; running it again continues after the last recorded block."""
    dump_file, summary = await _many_blocks(src, tmp_path)
    assert summary.blocks > 100
    record = dump_file + ".resume"
    child = subprocess.Popen(
        [sys.executable, "-m", "found", "load", dump_file, directories[1], "--quiet"],
        env=environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        while True:
            assert child.poll() is None, "the load ended before it could be interrupted"
            try:
                with open(record) as f:
                    if json.load(f)["next_block"] >= 20:
                        break
            except (OSError, ValueError):  # not written yet, or replaced while we read
                pass
            time.sleep(0.001)
        child.send_signal(stop)
    finally:
        child.wait(timeout=60)
    if stop == signal.SIGINT:
        assert child.returncode == 130 and child.stderr.read().decode().endswith("found load: interrupted\n")
    else:
        assert child.returncode == -signal.SIGKILL
    with open(record) as f:
        stopped_at = json.load(f)["next_block"]
    partial, _, _ = await digest(dst)
    assert 0 < partial < summary.pairs and stopped_at < summary.blocks
    done = ok("load", dump_file, directories[1])
    assert "resuming from the record in %s" % record in done.stderr
    resumed_at = int(done.stderr.split("(resumed at block ")[1].split(")")[0])
    assert resumed_at >= stopped_at
    assert await digest(dst) == await digest(src)
    assert not os.path.exists(record)


def _read_all(fd) -> bytes:
    chunks = []
    while True:
        ready, _, _ = select.select([fd], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


async def test_progress_bar_on_a_terminal(directories, src, tmp_path):
    await put(src, SAMPLE)
    controller, terminal = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "found", "dump", directories[0], "-o", str(tmp_path / "t.fdump")],
        env=environment(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=terminal,
    )
    os.close(terminal)
    shown = _read_all(controller).decode()
    os.close(controller)
    assert child.wait(timeout=60) == 0
    assert shown.startswith("\rdump  [") and "4 pairs" in shown and "/s" in shown
    assert "\r\n" in shown or "\n" in shown  # the bar's line is ended before the summary
    assert "\x1b" not in shown  # no escape sequences, only a carriage return


def test_dump_to_stdout_refuses_a_terminal(directories, tmp_path):
    ok("set", "k", "v", "-d", directories[0])
    controller, terminal = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "found", "dump", directories[0], "-o", "-"],
        env=environment(),
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=subprocess.PIPE,
    )
    os.close(terminal)
    _read_all(controller)
    os.close(controller)
    assert child.wait(timeout=60) == 1
    assert child.stderr.read().decode() == (
        "found dump: refusing to write a binary dump to a terminal; use -o FILE or a pipe\n"
    )


async def test_plain_progress_lines_when_not_a_terminal(directories, src, tmp_path):
    await put(src, SAMPLE)
    done = ok("dump", directories[0], "-o", str(tmp_path / "p.fdump"))
    assert "\r" not in done.stderr and "\x1b" not in done.stderr
    lines = done.stderr.splitlines()
    assert lines[0].startswith("dump  [##############################] 100%  4 pairs  100.6 KB")
    assert lines[-1].startswith("dumped 4 pairs")


OFFICIAL = textwrap.dedent("""
    import ctypes, json, sys
    import found.engine
    ctypes.CDLL(found.engine.library_path(), mode=ctypes.RTLD_GLOBAL)
    import fdb
    fdb.api_version(730)
    action, path, here = sys.argv[1:4]
    sys.path.insert(0, here)
    from cli_support import Digest
    db = fdb.open(path)

    @fdb.transactional
    def write(tr, start):
        for i in range(start, start + 2000):
            tr[fdb.tuple.pack(("item", i))] = fdb.tuple.pack(("value", i, b"\\x00" * (i % 50)))
            if i % 500 == 0:
                tr[b"big/%d" % i] = bytes([i % 256]) * 100_000
                tr[b"long/" + b"x" * 700 + b"%d" % i] = b"long"

    @fdb.transactional
    def chunk(tr, begin):
        return [(kv.key, kv.value) for kv in tr.get_range(begin, b"\\xff", limit=5000)]

    if action == "write":
        for start in range(0, 10_000, 2000):
            write(db, start)
    total, cursor = Digest(), b""
    while True:
        rows = chunk(db, cursor)
        total.add(rows)
        if len(rows) < 5000:
            break
        cursor = rows[-1][0] + b"\\x00"
    print(json.dumps(total.result()))
""")


def _official(action: str, path: str):
    here = os.path.dirname(os.path.abspath(__file__))
    done = subprocess.run(
        [sys.executable, "-c", OFFICIAL, action, path, here],
        env=environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return tuple(json.loads(done.stdout))


async def test_official_binding_sees_the_same_data(directories, tmp_path):
    """Written by the official binding, dumped and loaded by found, read back by both bindings: all agree."""
    written = _official("write", directories[0])
    dump_file = str(tmp_path / "official.fdump")
    ok("dump", directories[0], "-o", dump_file, "--quiet")
    ok("load", dump_file, directories[1], "--quiet")
    assert _official("read", directories[1]) == written
    assert await digest(await found.open(directories[1])) == written
    assert await digest(await found.open(directories[0])) == written


async def test_system_keys_need_system_on_both_sides(directories, src, dst, tmp_path):
    await put(src, [(b"user", b"u")])
    await put(src, [(b"\xff/mine", b"s")], system=True)
    dump_file = str(tmp_path / "system.fdump")
    ok("dump", directories[0], "--system", "-o", dump_file, "--quiet")
    done = run_found("load", dump_file, directories[1], "--no-resume")
    assert done.returncode == 1
    assert "found load: the dump reaches system keys (\\xff...); pass system=True (--system)" in done.stderr
    assert await pairs_of(dst, b"", b"\xff\xff", system=True) == []
    ok("load", dump_file, directories[1], "--system")
    assert await pairs_of(dst, b"", b"\xff\xff", system=True) == [(b"user", b"u"), (b"\xff/mine", b"s")]
    third = str(tmp_path / "third")
    ok("copy", directories[0], third, "--system")
    assert await pairs_of(await found.open(third), b"", b"\xff\xff", system=True) == [
        (b"user", b"u"),
        (b"\xff/mine", b"s"),
    ]


async def test_interrupted_dump_leaves_no_file(directories, src, tmp_path):
    """Ctrl-C during a dump: exit 130, and neither FILE nor FILE.partial is left behind."""
    await put(src, [(b"k%07d" % i, b"v" * 100) for i in range(1_000_000)], per_transaction=50_000)
    dump_file = tmp_path / "cut.fdump"
    child = subprocess.Popen(
        [sys.executable, "-m", "found", "dump", directories[0], "-o", str(dump_file)],
        env=environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        first = child.stderr.readline()  # the first progress line comes after the first block
        assert first.startswith(b"dump  [")
        child.send_signal(signal.SIGINT)
        # communicate, not read(): a child that does not exit fails here rather than hanging the suite
        rest = child.communicate(timeout=60)[1].decode()
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
    assert child.returncode == 130 and rest.endswith("found dump: interrupted\n"), rest
    assert not dump_file.exists() and not (tmp_path / "cut.fdump.partial").exists()
