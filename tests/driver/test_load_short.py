"""bench/load_test.py in a short form: 2 processes × 16 tasks × 3 s of mixed
calls with random cancellations (the full form, 4 × 64 × 60 s, is measured in
docs/engine-storage.md, "Under sustained load")."""

import json
import os
import subprocess
import sys

import pytest

from driver_support import ROOT

pytestmark = pytest.mark.engine_only


def test_short_load_has_no_errors_and_no_failed_commit_applied(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            os.path.join(ROOT, "bench", "load_test.py"),
            "--processes",
            "2",
            "--tasks",
            "16",
            "--duration",
            "3",
            "--accounts",
            "200",
            "--seed",
            "7",
            "--dir",
            str(tmp_path / "db"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["errors"] == {} and report["failed_but_applied"] == 0
    assert report["outcomes"]["ok"] > 0 and report["outcomes"]["cancelled"] > 0
    # per process (two workers and the parent): its newest snapshot, one being
    # made, its ring of 8, and one per task reading at that moment
    assert 0 < report["peak_reader_slots"] <= 3 * (2 + 8 + 16)
    assert report["live_pairs"] >= 200
