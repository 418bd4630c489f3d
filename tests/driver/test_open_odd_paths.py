"""found.open() on paths that are neither a directory nor a cluster file (issue 12, item 5).

Each case runs in a child process with a time limit: before the fix the
open of a FIFO blocked inside the C call for ever.
"""

import os
import socket

import pytest

import found
from driver_support import run_python

pytestmark = pytest.mark.engine_only

_OPEN = """
import asyncio, sys
import found

async def main():
    try:
        await found.open(sys.argv[1])
    except found.FoundException as exc:
        print(exc.code, exc.message)
    else:
        print("opened")

asyncio.run(main())
"""


def _open_in_child(path):
    return run_python(_OPEN, path, env={"FOUND_LIBRARY": "embedded"}, timeout=60).stdout.strip()


def test_a_fifo_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    out = _open_in_child(str(fifo))
    assert out.startswith("1513 ") and str(fifo) in out and "FIFO" in out


def test_a_fifo_named_like_a_cluster_file_is_refused(tmp_path):
    fifo = tmp_path / "fdb.cluster"
    os.mkfifo(fifo)
    out = _open_in_child(str(fifo))
    assert out.startswith("1513 ") and str(fifo) in out


def test_a_socket_is_refused(tmp_path):
    path = tmp_path / "sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        out = _open_in_child(str(path))
    assert out.startswith("1513 ") and str(path) in out and "socket" in out


def test_a_fifo_in_place_of_the_data_file_is_refused(tmp_path):
    directory = tmp_path / "db"
    directory.mkdir()
    os.mkfifo(directory / "data.mdb")
    out = _open_in_child(str(directory))
    assert out.startswith("1522 ") and str(directory / "data.mdb") in out


def test_a_fifo_in_place_of_the_lock_file_is_refused(tmp_path):
    directory = tmp_path / "db"
    directory.mkdir()
    os.mkfifo(directory / "lock.mdb")
    out = _open_in_child(str(directory))
    assert out.startswith("1522 ") and str(directory / "lock.mdb") in out and "not a regular file" in out


@pytest.mark.parametrize("path", ["db\0rest", b"db\0rest"])
async def test_a_path_with_a_nul_byte_is_refused_not_cut(tmp_path, path):
    whole = os.path.join(os.fsencode(tmp_path) if isinstance(path, bytes) else str(tmp_path), path)
    with pytest.raises(ValueError, match="NUL"):
        await found.open(whole)
    assert not os.path.exists(tmp_path / "db")  # nothing was opened at the cut path
