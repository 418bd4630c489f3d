# Helpers for .ci/run (sourced, not run): timed steps and a summary.
#   step NAME CMD...      run CMD, time it, remember whether it failed
#   pytest_ok CMD...      run a pytest command; exit 5 (no test collected) fails
#   summary               print each step's time and result; status 1 if any failed
# A step that exits 77 (the automake convention) is reported as SKIPPED with
# the reason it printed: used only for jobs whose command does not exist yet.
# The table ends with a plain "N passed, N failed" line over the steps.
# Each step is stopped after CI_STEP_TIMEOUT seconds (default 1800, SIGTERM,
# then SIGKILL 30 s later) and reported FAILED (exit 124 or 137), so one hung
# job still leaves the other steps' results and the summary inside CI's limit.

CI_STEPS=()
CI_FAILED=0

step() {
  local name=$1
  shift
  local start=$SECONDS rc=0
  echo "::: step $name: $*"
  if declare -F "$1" >/dev/null; then
    "$@" || rc=$?  # a shell function (pytest_ok): it applies the limit itself
  else
    timeout --kill-after=30 "${CI_STEP_TIMEOUT:-1800}" "$@" || rc=$?
  fi
  [ "$rc" = 124 ] && echo "::: step $name: stopped after ${CI_STEP_TIMEOUT:-1800}s" >&2
  local took=$((SECONDS - start))
  if [ "$rc" = 0 ]; then
    CI_STEPS+=("$(printf '%-12s %5ss  ok' "$name" "$took")")
  elif [ "$rc" = 77 ]; then
    CI_STEPS+=("$(printf '%-12s %5ss  SKIPPED (pending, see above)' "$name" "$took")")
    rc=0
  else
    CI_STEPS+=("$(printf '%-12s %5ss  FAILED (exit %s)' "$name" "$took" "$rc")")
    CI_FAILED=$((CI_FAILED + 1))
  fi
  echo "::: step $name: exit $rc after ${took}s"
  return "$rc"
}

pytest_ok() {
  local rc=0
  timeout --kill-after=30 "${CI_STEP_TIMEOUT:-1800}" "$@" || rc=$?
  if [ "$rc" = 5 ]; then
    echo "pytest collected no test: $*" >&2
  fi
  return "$rc"
}

summary() {
  echo "::: summary (seconds per step)"
  local line
  for line in "${CI_STEPS[@]}"; do
    echo "    $line"
  done
  echo "steps: $((${#CI_STEPS[@]} - CI_FAILED)) passed, $CI_FAILED failed"
  [ "$CI_FAILED" = 0 ]
}
