"""Every Python block of README.md and docs/*.md runs as written: no top-level await, no undefined name."""

import glob
import os
import re
import subprocess
import sys
import textwrap

import pytest

from driver_support import ROOT

DOCUMENTS = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
SNIPPETS = [
    (os.path.relpath(path, ROOT), i, textwrap.dedent(block))
    for path in DOCUMENTS
    for i, block in enumerate(re.findall(r"^ *```python\n(.*?)^ *```", open(path).read(), re.S | re.M))
]


def test_the_documents_have_snippets():
    assert len(SNIPPETS) >= 8
    assert {name for name, _, _ in SNIPPETS} >= {"README.md", "docs/stores.md", "docs/vnstore.md"}


@pytest.mark.parametrize("name,index,source", SNIPPETS, ids=["%s-%d" % (n, i) for n, i, _ in SNIPPETS])
def test_snippet_runs_as_a_program(tmp_path, name, index, source):
    compile(source, "%s[%d]" % (name, index), "exec")  # a top-level await is a SyntaxError here
    env = dict(os.environ, FDB_CLUSTER_FILE=str(tmp_path / "db"), XDG_DATA_HOME=str(tmp_path / "data"))
    env.pop("FOUND_LIBRARY", None)
    done = subprocess.run(
        [sys.executable, "-c", source], cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, "%s, Python block %d:\n%s" % (name, index, done.stderr)
