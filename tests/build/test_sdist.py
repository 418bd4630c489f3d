"""The sdist carries what a wheel is built from (MANIFEST.in)."""

import fnmatch
import shutil
import subprocess
import sys
import tarfile

REQUIRED = [
    "setup.py",
    "pyproject.toml",
    "MANIFEST.in",
    "README.md",
    "ffi/build_ffi.py",
    "ffi/gen_tables.py",
    "ffi/include/fdb_c_api.h",
    "ffi/driver/*.c",
    "ffi/driver/*.h",
    "ffi/engine/*/*.c",
    "ffi/engine/*/*.h",
    "ffi/engine/Makefile",
    "ffi/tuple/*.c",
    "ffi/tuple/*.h",
    "ffi/reference/*.tsv",
    "ffi/reference/*.txt",
    "found/*.py",
]
_SKIP = shutil.ignore_patterns(
    ".git", ".venv*", "build", "dist", "*.so", "*.o", "__pycache__", "*.egg-info", ".hypothesis", "bazel-*"
)


def _sdist_names(root, tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(root, tree, ignore=_SKIP, symlinks=False)
    subprocess.run(
        [sys.executable, "setup.py", "-q", "sdist", "-d", str(tmp_path / "dist")],
        cwd=tree,
        check=True,
        capture_output=True,
        timeout=300,
    )
    (archive,) = (tmp_path / "dist").iterdir()
    with tarfile.open(archive) as t:
        return ["/".join(n.split("/")[1:]) for n in t.getnames()]


def test_sdist_has_sources_headers_and_reference_tables(root, tmp_path):
    names = _sdist_names(root, tmp_path)
    missing = [p for p in REQUIRED if not fnmatch.filter(names, p)]
    assert not missing, missing
    assert not fnmatch.filter(names, "*.so"), "built files must not ship in the sdist"
