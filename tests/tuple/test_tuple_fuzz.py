"""A short run of the sanitizer fuzzer (the long one: see docs/tuple.md)."""

import os
import platform
import shutil
import subprocess
import sys

import pytest

FUZZER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz.py")


@pytest.mark.skipif(
    platform.python_implementation() != "CPython",
    reason="the C codec runs on CPython only; PyPy uses the pure-Python codec",
)
def test_fuzz_under_address_sanitizer():
    if shutil.which("gcc") is None:
        pytest.fail("gcc is needed to build the sanitized codec")
    result = subprocess.run(
        [sys.executable, FUZZER, "--seconds", "4", "--seed", "20261129"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no finding" in result.stdout
