"""The application that .ci/typecheck type-checks also runs: its types describe working code."""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def test_the_typed_application_runs(tmp_path):
    done = subprocess.run(
        [sys.executable, os.path.join(HERE, "app.py"), str(tmp_path / "db")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=str(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("ok")
