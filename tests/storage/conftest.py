"""Fixtures for the storage-core tests: builds of the engine and its C test driver."""
import os
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENGINE = os.path.join(ROOT, "ffi", "engine")


def make(*targets):
    """Build `targets` with ffi/engine/Makefile; return the build directory."""
    subprocess.run(["make", "-s", "-C", ENGINE, *targets], check=True,
                   stdout=subprocess.DEVNULL)
    return os.path.join(ENGINE, "build")


@pytest.fixture(scope="session")
def engine_lib():
    """Path of the freshly built engine library (libfdb_c.so)."""
    return os.path.join(make("all"), "libfdb_c.so")
