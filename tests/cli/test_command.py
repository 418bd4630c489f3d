"""The `found` command run as a subprocess: exit codes, stdout, stderr messages, --help examples."""

import asyncio
import json
import os
import subprocess
import sys

import pytest

import found
from cli_support import environment, ok, pairs_of, put, run_found
from found._cli import parser

COMMANDS = ["info", "version", "get", "set", "clear", "range", "watch", "dump", "load", "copy"]


def test_every_command_is_listed_and_has_examples(capsys):
    top = parser()
    listed = [action for action in top._subparsers._group_actions][0].choices
    assert sorted(listed) == sorted(COMMANDS)
    for command in COMMANDS:  # in process: one subprocess (below) shows it is the same
        with pytest.raises(SystemExit) as exited:
            parser().parse_args([command, "--help"])
        text = capsys.readouterr().out
        assert exited.value.code == 0
        assert "examples:" in text and "found %s" % command in text.split("examples:")[1], command
    assert ok("load", "--help").stdout.decode().split("examples:")[1].startswith("\n  found load ")


def test_top_level_help_and_usage_errors():
    assert "examples:" in ok("--help").stdout.decode()
    done = run_found()
    assert done.returncode == 2 and "the following arguments are required: COMMAND" in done.stderr
    done = run_found("frobnicate")
    assert done.returncode == 2 and "invalid choice: 'frobnicate'" in done.stderr
    done = run_found("range", "--limit", "many")
    assert done.returncode == 2 and "invalid int value: 'many'" in done.stderr


def test_console_script_is_declared(capsys):
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "pyproject.toml")) as f:
        assert 'found = "found._cli:main"' in f.read()
    from found._cli import main  # what the script calls: main(argv) returns the exit status

    assert main(["version"]) == 0 and capsys.readouterr().out.startswith("found ")


def test_version():
    line = ok("version").stdout.decode()
    assert line.startswith("found %s (API 730, client 7.3.69" % ".".join(map(str, found.__VERSION__)))


def test_set_get_clear(directories):
    data = directories[0]
    ok("set", "hello", "world", "-d", data)
    assert ok("get", "hello", "-d", data).stdout == b"b'world'\n"
    ok("set", "b'\\x00\\xfe'", "a\\x01b", "-d", data)
    assert ok("get", "\\x00\\xfe", "-d", data).stdout == b"b'a\\x01b'\n"
    ok("clear", "hello", "-d", data)
    done = run_found("get", "hello", "-d", data)
    assert (done.returncode, done.stdout, done.stderr) == (1, b"", "found get: no such key: b'hello'\n")


async def test_range_streams_past_one_transaction(directories, src):
    """Ranges longer than a chunk (10,000 pairs) are read in several transactions, at one read version."""
    rows = [(b"k%06d" % i, b"%d" % i) for i in range(25_003)]
    await put(src, rows, per_transaction=20_000)
    data = directories[0]
    done = ok("range", "-d", data)
    assert done.stdout.decode().splitlines() == ["%r\t%r" % row for row in rows] and done.stderr == ""
    done = ok("range", "-d", data, "--reverse", "--limit", "20001", "k000001")
    assert done.stdout.decode().splitlines() == ["%r\t%r" % row for row in rows[::-1][:20_001]]
    done = ok("range", "-d", data, "--reverse", "k000001", "k012000")
    assert done.stdout.decode().splitlines() == ["%r\t%r" % row for row in rows[11_999:0:-1]]


def test_reading_commands_do_not_create_databases(tmp_path):
    missing = str(tmp_path / "typo")
    for command in (
        ["info", missing],
        ["get", "k", "-d", missing],
        ["range", "-d", missing],
        ["dump", missing, "-o", str(tmp_path / "x")],
        ["watch", "k", "-d", missing],
    ):
        done = run_found(*command)
        assert done.returncode == 1 and "no database at %s" % missing in done.stderr, command
    assert not (tmp_path / "typo").exists() and not (tmp_path / "x").exists()
    ok("set", "k", "v", "-d", missing)
    assert ok("get", "k", "-d", missing).stdout == b"b'v'\n"


async def test_range_limit_reverse_prefix(directories, src):
    await put(src, [(b"a", b"1"), (b"p/1", b"2"), (b"p/2", b"3"), (b"q", b"4")])
    data = directories[0]
    assert ok("range", "-d", data).stdout.decode().splitlines() == [
        "b'a'\tb'1'",
        "b'p/1'\tb'2'",
        "b'p/2'\tb'3'",
        "b'q'\tb'4'",
    ]
    assert ok("range", "p/", "q", "-d", data, "--reverse").stdout.decode().splitlines() == [
        "b'p/2'\tb'3'",
        "b'p/1'\tb'2'",
    ]
    assert ok("range", "--prefix", "p/", "--limit", "1", "-r", "-d", data).stdout == b"b'p/2'\tb'3'\n"
    ok("clear", "--prefix", "p/", "-d", data)
    assert await pairs_of(src) == [(b"a", b"1"), (b"q", b"4")]
    ok("clear", "--range", "a", "b", "-d", data)
    assert await pairs_of(src) == [(b"q", b"4")]


async def test_tuple_keys_and_values(directories, src):
    data = directories[0]
    ok("set", "--tuple", "('users', 42)", "--value-tuple", "('Ada', 1815)", "-d", data)
    ok("set", "--tuple", "('users', 43)", "plain", "-d", data)
    assert await pairs_of(src) == [
        (found.pack(("users", 42)), found.pack(("Ada", 1815))),
        (found.pack(("users", 43)), b"plain"),
    ]
    out = ok("range", "--tuple", "--prefix", "('users',)", "-d", data).stdout.decode()
    assert out.splitlines() == ["('users', 42)\tb'\\x02Ada\\x00\\x16\\x07\\x17'", "('users', 43)\tb'plain'"]
    assert ok("get", "-t", "('users', 42)", "--value-tuple", "-d", data).stdout == b"('Ada', 1815)\n"
    done = run_found("set", "--tuple", "('users',", "x", "-d", data)
    assert done.returncode == 1 and done.stderr.startswith("found set: not a tuple literal: ('users',")


async def test_system_keys_only_on_request(directories, src):
    data = directories[0]
    done = run_found("set", "\\xff/mine", "v", "-d", data)
    assert done.returncode == 1
    assert done.stderr == "found set: key b'\\xff/mine' is a system key (\\xff...); pass --system to use it\n"
    ok("set", "--system", "\\xff/mine", "v", "-d", data)
    ok("set", "user", "u", "-d", data)
    assert ok("range", "-d", data).stdout == b"b'user'\tb'u'\n"
    assert ok("range", "--system", "\\xff", "\\xff\\xff", "-d", data).stdout == b"b'\\xff/mine'\tb'v'\n"
    done = run_found("range", "a", "\\xff\\xff", "-d", data)
    assert done.returncode == 1 and "reaches system keys" in done.stderr


def test_database_errors_carry_code_and_message(tmp_path):
    cluster = tmp_path / "real.cluster"
    cluster.write_text("# not a cluster\nthis is not a connection string\n")
    done = run_found("get", "k", "-d", str(cluster))
    assert done.returncode == 1
    assert done.stderr.startswith("found get: FoundException: ") and "(2104)" in done.stderr


async def test_watch_prints_each_change(directories, src):
    data = directories[0]
    await put(src, [(b"counter", b"1")])
    child = subprocess.Popen(
        [sys.executable, "-m", "found", "watch", "counter", "--count", "2", "-d", data],
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        # The watch is armed before the first line is printed, so a change made after reading it is seen.
        first = await asyncio.to_thread(child.stdout.readline)
        assert first == b"b'1'\n"
        await put(src, [(b"counter", b"2")])
        assert await asyncio.to_thread(child.stdout.readline) == b"b'2'\n"
        await found.transactional(src, found.clear, b"counter")
        assert await asyncio.to_thread(child.stdout.readline) == b"(absent)\n"
        assert child.wait(timeout=60) == 0
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()


async def test_watch_timeout(directories, src):
    done = run_found("watch", "nothing", "--timeout", "0.2", "-d", directories[0])
    assert (done.returncode, done.stdout) == (1, b"(absent)\n")
    assert done.stderr == "found watch: no change within 0.2 s\n"


async def test_info_text_and_json(directories, src):
    await put(src, [(b"k%03d" % i, b"v" * 10) for i in range(100)])
    data = directories[0]
    text = ok("info", data).stdout.decode()
    assert "library:        embedded " in text and "data directory: %s" % data in text
    assert "data.mdb" in text and "lock.mdb" in text and "keys:           100\n" in text
    assert "size:           1.4 KB (keys + values)" in text
    report = json.loads(ok("info", data, "--json").stdout)
    assert report["library"] == "embedded" and report["data_directory"] == data
    assert report["keys"] == {"pairs": 100, "bytes": 1400, "exact": True}
    assert report["files"]["data.mdb"]["size"] > 0
    slots = report["reader_slots"]
    assert slots["max"] == 8192 and 0 <= slots["reading"] <= slots["in_use"] <= slots["high_water"]


async def test_info_counts_reader_slots_of_other_processes(directories, src):
    """A snapshot held open here takes a reader slot that `found info` (another process) sees."""
    await put(src, [(b"k", b"v")])
    before = json.loads(ok("info", directories[0], "--json").stdout)["reader_slots"]["reading"]
    tx = found.make_transaction(src)
    await found.get(tx, b"k")
    await put(src, [(b"k", b"w")])  # the next snapshot is a new one: tx keeps its own
    holding = json.loads(ok("info", directories[0], "--json").stdout)["reader_slots"]["reading"]
    found.cancel(tx)
    assert holding > before


async def test_info_estimates_large_counts(directories, src):
    await put(src, [(b"k%06d" % i, b"v" * 40) for i in range(150_000)], per_transaction=50_000)
    report = json.loads(ok("info", directories[0], "--json").stdout)
    assert report["keys"]["exact"] is False and 100_000 < report["keys"]["pairs"] < 250_000
    exact = json.loads(ok("info", directories[0], "--json", "--exact").stdout)
    assert exact["keys"] == {"pairs": 150_000, "bytes": 150_000 * 47, "exact": True}


def test_info_finds_the_engine_directory_of_an_embedded_cluster_file(tmp_path, monkeypatch):
    from found._cli.info import engine_directory

    (tmp_path / "app.cluster").write_text("embedded:state/db\n")
    assert engine_directory(str(tmp_path / "app.cluster")) == str(tmp_path / "state" / "db")
    assert engine_directory(str(tmp_path / "plain")) == str(tmp_path / "plain")
    monkeypatch.setenv("FDB_CLUSTER_FILE", str(tmp_path / "app.cluster"))
    assert engine_directory(None) == str(tmp_path / "state" / "db")
    monkeypatch.delenv("FDB_CLUSTER_FILE")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert engine_directory(None) == str(tmp_path / "xdg" / "found" / "engine")
    ok("set", "k", "v", "-d", str(tmp_path / "app.cluster"))
    report = json.loads(ok("info", str(tmp_path / "app.cluster"), "--json").stdout)
    assert report["data_directory"] == str(tmp_path / "state" / "db") and "data.mdb" in report["files"]
