#!/usr/bin/env bash
# Bazel sh_test body: run one tests/<area> with pytest against the pieces
# built by //:found_built, in a private copy of the sources.
# Usage: run_pytest.sh BUILT.tar PATH... (a tests/<area>, or test files)
set -euo pipefail
built=$(pwd)/$1
shift
tree="${TEST_TMPDIR:?}/tree"
mkdir -p "$tree"
# Runfiles are symlinks into the source tree; copy them so nothing the tests
# write (caches, generated files) can reach the repository.
cp -RL . "$tree/"
tar -xf "$built" -C "$tree"
cd "$tree"
export PYTHONPATH="$tree${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1
# A private temp dir per test, away from parallel tests. Not under
# TEST_TMPDIR: that path is too long for the Unix sockets some tests create
# there (Chromium's, for one, which then fails to start).
TMPDIR=$(mktemp -d /tmp/found-bazel-test.XXXXXX)
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
# The package under test must be this copy, not an installed or editable one.
python3 - <<'PY'
import os, found
here = os.path.realpath(os.path.dirname(found.__file__))
assert here == os.path.realpath("found"), f"imported found from {here}"
PY
status=0
python3 -m pytest -q -p no:cacheprovider --basetemp="$TMPDIR/pytest" "$@" || status=$?
if [ "$status" = 5 ]; then
  echo "run_pytest: no test collected in $*" >&2
fi
exit "$status"
