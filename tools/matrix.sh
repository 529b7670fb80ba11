#!/usr/bin/env bash
# The support matrix (README "Supported versions", docs/support.md). For each pair of tests/matrix/pairs.txt:
#   supported  a virtual environment with that ansible-core on that Python and the collection's requirements.txt,
#              then a real ansible-playbook run of tests/matrix/smoke.yml (token, sync, deployment, report) against
#              a fresh Apple simulator: the play must pass and the report files must be written, not empty;
#   refused    the same environment, one module task: it must fail with the collection's clear refusal (the
#              supported range, what to do), and no Python traceback may appear.
# The environments are cached in .venv-matrix/<ansible-core>-py<python>/, each rebuilt only when what it is made of
# (its Python, its ansible-core pin, requirements.txt) changes. The simulator runs with the project's .venv Python;
# only the Ansible side runs in the matrix's environments.
# Usage: tools/matrix.sh [CORE:PYTHON ...]   (default: every pair of tests/matrix/pairs.txt)
#        tools/matrix.sh --sanity-pairs       print CORE:PYTHON of each supported pair but the default one (the
#                                             ansible-core of requirements-dev.txt on $PYTHON, which make sanity runs)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)

if [ "${1:-}" = "--sanity-pairs" ]; then
    default_core=$(sed -n 's/^ansible-core==//p' "$repo/requirements-dev.txt")
    default_python=$("${PYTHON:-python3}" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    awk -v skip="$default_core:$default_python" '$1 == "supported" && $2 ":" $3 != skip { print $2 ":" $3 }' \
        "$repo/tests/matrix/pairs.txt"
    exit 0
fi
sim_python="$repo/.venv/bin/python"
cache="$repo/.venv-matrix"

# One run at a time: a second run would rebuild the cached environments under the first.
mkdir -p "$cache"
exec 9>"$cache.lock"
flock 9

# shellcheck source=tools/find_python.sh
. "$repo/tools/find_python.sh"

# The cached environment of one pair; prints its directory.
environment() {
    local core=$1 want=$2 python venv key
    python=$(find_python "$want") || return 1
    venv="$cache/$core-py$want"
    key=$(printf '%s\n' "$("$python" -VV)" "ansible-core==$core" "$(cat "$repo/requirements.txt")")
    if [ ! -x "$venv/bin/ansible-playbook" ] || [ "$(cat "$venv/.requirements" 2>/dev/null)" != "$key" ]; then
        echo "matrix: building $venv (ansible-core $core, $("$python" -V))" >&2
        rm -rf "$venv"
        "$python" -m venv "$venv" || return 1
        if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "ansible-core==$core" \
            -r "$repo/requirements.txt" > "$venv/pip.log" 2>&1; then
            cat "$venv/pip.log" >&2
            return 1
        fi
        printf '%s' "$key" > "$venv/.requirements"
    fi
    echo "$venv"
}

work=$(mktemp -d)
sim_pid=
stop_simulator() {
    if [ -n "$sim_pid" ]; then
        kill "$sim_pid" 2>/dev/null || true
        wait "$sim_pid" 2>/dev/null || true
        sim_pid=
    fi
}
trap 'stop_simulator; rm -rf "$work"' EXIT

# The collection as Ansible finds it: <work>/collections/ansible_collections/mdm/vpp -> this checkout.
mkdir -p "$work/collections/ansible_collections/mdm"
ln -s "$repo" "$work/collections/ansible_collections/mdm/vpp"

# A fresh simulator with the demo's locations (tokens in $1/tokens); sets sim_url.
start_simulator() {
    local dir=$1
    (cd "$repo" && exec "$sim_python" -m tests.simulator --scenario tests/simulator/scenarios/demo.yml --port 0 \
        --tokens-dir "$dir/tokens") > "$dir/simulator.log" 2>&1 &
    sim_pid=$!
    for _ in $(seq 100); do
        grep -q '^URL=' "$dir/simulator.log" 2>/dev/null && break
        sleep 0.1
    done
    sim_url=$(sed -n 's/^URL=//p' "$dir/simulator.log")
    [ -n "$sim_url" ] || { cat "$dir/simulator.log" >&2; return 1; }
}

# ansible-playbook of the pair's environment, with the collection, a private store and the simulator.
playbook() {
    local venv=$1 dir=$2
    shift 2
    env ANSIBLE_COLLECTIONS_PATH="$work/collections" ANSIBLE_LOCALHOST_WARNING=False ANSIBLE_RETRY_FILES_ENABLED=False \
        ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 VPP_API_URL="$sim_url" VPP_STORE="$dir/store/vpp.db" \
        VPP_EVENT_POLL_INTERVAL=0.5 "$venv/bin/ansible-playbook" -i localhost, "$@"
}

supported() {
    local core=$1 want=$2 venv dir report
    venv=$(environment "$core" "$want") || return 1
    dir="$work/$core-py$want"
    mkdir -p "$dir/store"
    start_simulator "$dir" || return 1
    if ! playbook "$venv" "$dir" "$repo/tests/matrix/smoke.yml" -e matrix_tokens_dir="$dir/tokens" \
        -e vpp_report_dir="$dir/report" < /dev/null > "$dir/play.log" 2>&1; then
        stop_simulator
        cat "$dir/play.log" >&2
        echo "matrix: FAILED: ansible-core $core on Python $want: the smoke play failed (its output above)" >&2
        return 1
    fi
    stop_simulator
    for report in html csv json txt; do
        if [ ! -s "$dir/report/vpp-licenses.$report" ]; then
            cat "$dir/play.log" >&2
            echo "matrix: FAILED: ansible-core $core on Python $want: no report $dir/report/vpp-licenses.$report" >&2
            return 1
        fi
    done
    if grep -q 'Traceback' "$dir/play.log"; then
        cat "$dir/play.log" >&2
        echo "matrix: FAILED: ansible-core $core on Python $want: a traceback in the play's output" >&2
        return 1
    fi
    # what this ansible-core says about the collection (deprecations to act on before they break), shown once
    grep -E '^\[(WARNING|DEPRECATION WARNING)\]' "$dir/play.log" | sort -u | sed "s/^/matrix: $core-py$want: /" || true
}

refused() {
    local core=$1 want=$2 venv dir
    venv=$(environment "$core" "$want") || return 1
    dir="$work/$core-py$want"
    mkdir -p "$dir/store"
    sim_url=http://127.0.0.1:9/mdm/v2   # never reached: the module refuses before it connects
    if playbook "$venv" "$dir" -c local -e ansible_python_interpreter="$venv/bin/python" /dev/stdin \
        > "$dir/play.log" 2>&1 <<'PLAY'; then
- hosts: localhost
  gather_facts: false
  tasks:
    - mdm.vpp.vpp_token_info:
PLAY
        cat "$dir/play.log" >&2
        echo "matrix: FAILED: ansible-core $core on Python $want is outside the supported range, yet a module ran" >&2
        return 1
    fi
    if ! grep -q 'mdm.vpp supports ansible-core' "$dir/play.log" || grep -q 'Traceback' "$dir/play.log"; then
        cat "$dir/play.log" >&2
        echo "matrix: FAILED: ansible-core $core on Python $want: not the collection's clear refusal" >&2
        return 1
    fi
}

if [ $# -gt 0 ]; then
    pairs=
    for pair in "$@"; do
        line=$(grep -E "^[a-z]+ ${pair%%:*} ${pair#*:}\$" "$repo/tests/matrix/pairs.txt") \
            || { echo "matrix: $pair is not in tests/matrix/pairs.txt" >&2; exit 1; }
        pairs+="$line"$'\n'
    done
else
    pairs=$(grep -E '^(supported|refused) ' "$repo/tests/matrix/pairs.txt")
fi

# Build the missing environments side by side first (pip waits on the network more than on the processor).
builds=()
while read -r kind core want; do
    [ -n "$kind" ] || continue
    environment "$core" "$want" > /dev/null &
    builds+=($!)
done <<< "$pairs"
for build in "${builds[@]}"; do
    wait "$build" || exit 1
done

failed=0
while read -r kind core want <&3; do
    [ -n "$kind" ] || continue
    start=$SECONDS
    case $kind in
    supported) supported "$core" "$want" && result=0 || result=1 ;;
    refused) refused "$core" "$want" && result=0 || result=1 ;;
    *) echo "matrix: unknown kind $kind in tests/matrix/pairs.txt" >&2; exit 1 ;;
    esac
    if [ "$result" -eq 0 ]; then
        echo "matrix: ok: ansible-core $core on Python $want ($kind, $((SECONDS - start)) s)"
    else
        failed=1
    fi
done 3<<< "$pairs"
exit "$failed"
