"""Helpers shared by the storage-core tests (a module of its own name:
several test directories have a conftest.py, so none is imported by name)."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENGINE = os.path.join(ROOT, "ffi", "engine")
CHILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fdb_child.py")


def make(*targets):
    """Build `targets` with ffi/engine/Makefile; return the build directory."""
    subprocess.run(["make", "-s", "-C", ENGINE, *targets], check=True, stdout=subprocess.DEVNULL)
    return os.path.join(ENGINE, "build")


def spawn(engine_lib, directory, *args):
    """Start fdb_child.py on the engine with a workload; lines on stdout."""
    return subprocess.Popen(
        [sys.executable, CHILD, engine_lib, str(directory), *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run(engine_lib, directory, *args):
    """Run a workload to its end; its stdout lines, split into words."""
    proc = spawn(engine_lib, directory, *args)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return [line.split(" ") for line in out.splitlines()]
