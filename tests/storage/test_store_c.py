"""Runs the C test driver of the storage core (tests/storage/store_test.c):
each C test in its own fresh directory, once with the plain build and once
with the ASan+UBSan build (leak checking on)."""

import os
import subprocess

import pytest

from storage_support import ENGINE, make

_PLAIN = os.path.join(ENGINE, "build", "store_test")
_ASAN = os.path.join(ENGINE, "build", "asan", "store_test")
# A small map makes "disk full" reachable in map_full_fails_batch.
_ENV_FOR = {"map_full_fails_batch": {"FOUND_ENGINE_MAP_SIZE": str(4 << 20)}}


def _names():
    make("store_test")
    out = subprocess.run([_PLAIN, "--list"], check=True, capture_output=True, text=True)
    return out.stdout.split()


@pytest.fixture(scope="module")
def asan_driver():
    make("store_test_asan")
    return _ASAN


def _run(binary, name, tmp_path):
    env = dict(os.environ, **_ENV_FOR.get(name, {}))
    env.pop("FOUND_ENGINE_MAP_SIZE", None) if name not in _ENV_FOR else None
    env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=0"
    proc = subprocess.run([binary, name, str(tmp_path)], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("name", _names())
def test_c(name, tmp_path):
    _run(_PLAIN, name, tmp_path)


@pytest.mark.parametrize("name", _names())
def test_c_asan(name, tmp_path, asan_driver):
    _run(asan_driver, name, tmp_path)


def test_unknown_test_name_is_an_error(tmp_path):
    proc = subprocess.run([_PLAIN, "no_such_test", str(tmp_path)], capture_output=True, text=True)
    assert proc.returncode == 2 and "no test named" in proc.stderr
