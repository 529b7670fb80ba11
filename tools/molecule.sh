#!/usr/bin/env bash
# Run every role's molecule scenario (make molecule). The full output goes to the terminal and to
# run/molecule.log; when a scenario fails, its failing steps are printed again at the end, where a CI log's tail
# shows them (molecule's own recap leaves out a scenario whose clean-up failed too).
# Usage: tools/molecule.sh [molecule test arguments, default --all]
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
log="$repo/run/molecule.log"
mkdir -p "$repo/run"
[ $# -gt 0 ] || set -- --all

PATH="$repo/.venv/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$repo/run/collections" \
    "$repo/.venv/bin/molecule" test "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
    echo
    echo "== molecule failed (exit $status); the failing steps, from $log:"
    grep -E -B2 -A8 'fatal: |FAILED!|Executed: Failed|Traceback|ERROR' "$log" | tail -80
fi
exit "$status"
