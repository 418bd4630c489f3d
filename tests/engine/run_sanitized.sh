#!/usr/bin/env bash
# Run tests/engine against the engine built with ASan + UBSan.
#
#   tests/engine/run_sanitized.sh [pytest args...]
#
# Python itself is not instrumented, so the ASan runtime must be loaded
# first (LD_PRELOAD); leak detection is on and limited to the engine by the
# suppressions below (CPython keeps memory until exit by design).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
make -s -C "$root/ffi/engine" build/asan/libfdb_c.so
supp=$(mktemp)
trap 'rm -f "$supp"' EXIT
# Leaks reported from outside the engine's own code are the interpreter's.
cat >"$supp" <<'SUPP'
leak:libpython
leak:python3
leak:_PyObject
leak:_ctypes
leak:libffi
leak:/usr/bin/
leak:libbfd
leak:libcrypto
SUPP
py=$(python3 -c 'import sys; print(sys.executable)')
export FOUND_ENGINE_LIB="$root/ffi/engine/build/asan/libfdb_c.so"
export LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:verify_asan_link_order=0:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
cd "$root"
exec "$py" -m pytest -q -p no:cacheprovider tests/engine "$@"
