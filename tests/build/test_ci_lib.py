""".ci/lib.sh: CI steps fail loudly, including pytest's 'no tests collected'."""

import os
import subprocess

import pytest


def _run(root, script):
    lib = os.path.join(root, ".ci", "lib.sh")
    return subprocess.run(["bash", "-c", f"source {lib}\n{script}"], capture_output=True, text=True, timeout=60)


def test_all_steps_ok(root):
    proc = _run(root, "step a true\nstep b true\nsummary")
    assert proc.returncode == 0
    assert proc.stdout.splitlines()[-1] == "steps: 2 passed, 0 failed"


@pytest.mark.parametrize("code", [1, 2, 5])
def test_pytest_exit_codes_fail_the_step(root, code):
    proc = _run(root, f"step tests pytest_ok sh -c 'exit {code}'\nstep other true\nsummary")
    assert proc.returncode == 1
    assert f"FAILED (exit {code})" in proc.stdout
    assert proc.stdout.splitlines()[-1] == "steps: 1 passed, 1 failed"


def test_no_tests_collected_is_said(root):
    proc = _run(root, "step tests pytest_ok sh -c 'exit 5'; summary")
    assert "collected no test" in proc.stderr


def test_a_failed_step_does_not_stop_later_steps(root):
    proc = _run(root, "step one false; step two echo ran-two; summary")
    assert "ran-two" in proc.stdout
    assert proc.returncode == 1


def test_pending_step_is_reported_not_failed(root):
    proc = _run(root, "step fuzz sh -c 'exit 77'; summary")
    assert proc.returncode == 0
    assert "SKIPPED (pending" in proc.stdout


def test_each_step_is_timed(root):
    proc = _run(root, "step quick true; summary")
    assert "::: step quick: exit 0 after" in proc.stdout
    line = next(line for line in proc.stdout.splitlines() if line.strip().startswith("quick"))
    assert line.split()[1].endswith("s") and line.split()[1][:-1].isdigit()
