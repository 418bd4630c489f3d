"""Helpers of the simulation tests: run ``python -m simulation`` in a fresh
process (the harness spawns client processes itself) and read its summary.

A module of its own, not conftest.py: test modules import these names, and
``from conftest import`` would pick whichever area's conftest was imported
first when several test folders run in one session."""

import atexit
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# A safety net against a hung run, not a timing assertion.
HANG_LIMIT = 600
# Failed runs keep their temporary directory for inspection: put those of the
# tests (several fail on purpose) where the end of the session removes them.
SCRATCH = tempfile.mkdtemp(prefix="simulation-tests-")
atexit.register(shutil.rmtree, SCRATCH, True)


class Result:
    """A finished simulation: exit status, output, and the parsed summary."""

    def __init__(self, completed):
        self.status = completed.returncode
        self.stdout = completed.stdout
        self.stderr = completed.stderr

    def replay_command(self):
        """The replay command the summary prints."""
        lines = self.stdout.splitlines()
        for index, line in enumerate(lines):
            if "replay with:" in line:
                return lines[index + 1].strip()
        raise AssertionError("no replay command in:\n" + self.stdout)

    def row(self, workload):
        """(committed, retried, failed) of a workload's summary row."""
        match = re.search(r"^  %s\s+(\d+)\s+(\d+)\s+(\d+)" % re.escape(workload), self.stdout, re.M)
        assert match, "no summary row for %s in:\n%s" % (workload, self.stdout)
        return tuple(int(g) for g in match.groups())

    def engine_faults(self):
        """{kind: count} from the summary's engine line."""
        match = re.search(r"faults injected by the engine: (.*)$", self.stdout, re.M)
        assert match, self.stdout
        if match.group(1) == "none":
            return {}
        return {kind: int(n) for kind, n in (item.rsplit(" ", 1) for item in match.group(1).split(", "))}

    def kills(self):
        """How many client kills the summary reports."""
        match = re.search(r", (\d+) kill\(s\)", self.stdout)
        return int(match.group(1)) if match else 0


def environment(plants=False):
    """The environment of a simulation process (``plants``: allow planted bugs)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [ROOT, env.get("PYTHONPATH")]))
    env["TMPDIR"] = SCRATCH
    env.pop("FOUND_SIM_TEST_PLANTS", None)
    if plants:
        env["FOUND_SIM_TEST_PLANTS"] = "1"
    return env


def run_simulation(*args, plants=False):
    """Run ``python -m simulation ARGS`` from the repository root."""
    completed = subprocess.run(
        [sys.executable, "-m", "simulation", "--quiet", *args],
        cwd=ROOT,
        env=environment(plants),
        capture_output=True,
        text=True,
        timeout=HANG_LIMIT,
    )
    return Result(completed)


def run_command(command):
    """Run a printed replay command (``[VAR=1 ]python -m simulation ...``)."""
    words = shlex.split(command)
    env = environment()
    while words and "=" in words[0] and not words[0].startswith("-"):
        name, value = words.pop(0).split("=", 1)
        env[name] = value
    assert words[1:3] == ["-m", "simulation"], command
    completed = subprocess.run(
        [sys.executable] + words[1:] + ["--quiet"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=HANG_LIMIT,
    )
    return Result(completed)


def read_log(path):
    """The events of a JSON-lines run log."""
    with open(path) as f:
        return [json.loads(line) for line in f]
