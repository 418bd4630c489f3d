#!/usr/bin/env bash
# Bazel genrule body: build found's compiled pieces with setup.py in a scratch
# copy of the sources and write them (found/**/*.so) as a reproducible tar.
# Usage: build_tree.sh OUT.tar SOURCE...
set -euo pipefail
out=$1
shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for f in "$@"; do
  mkdir -p "$work/$(dirname "$f")"
  cp -L "$f" "$work/$f"
done
abs_out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
cd "$work"
python3 setup.py -q build_ext --inplace >build.log 2>&1 || { cat build.log >&2; exit 1; }
find found -name '*.so' | LC_ALL=C sort > built.txt
test -s built.txt || { echo "build_tree: setup.py built nothing" >&2; exit 1; }
tar --create --file "$abs_out" --mtime=@0 --owner=0 --group=0 --numeric-owner \
  --files-from built.txt
