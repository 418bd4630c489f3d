#!/usr/bin/env bash
# Bazel sh_test body: run one tests/<area> with pytest against the pieces
# built by //:found_built, in a private copy of the sources.
# Usage: run_pytest.sh BUILT.tar tests/AREA
set -euo pipefail
built=$(pwd)/$1
area=$2
tree="${TEST_TMPDIR:?}/tree"
mkdir -p "$tree"
# Runfiles are symlinks into the source tree; copy them so nothing the tests
# write (caches, generated files) can reach the repository.
cp -RL . "$tree/"
tar -xf "$built" -C "$tree"
cd "$tree"
export PYTHONPATH="$tree${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1
# The package under test must be this copy, not an installed or editable one.
python3 - <<'PY'
import os, found
here = os.path.realpath(os.path.dirname(found.__file__))
assert here == os.path.realpath("found"), f"imported found from {here}"
PY
status=0
python3 -m pytest -q -p no:cacheprovider "$area" || status=$?
if [ "$status" = 5 ]; then
  echo "run_pytest: no test collected in $area" >&2
fi
exit "$status"
