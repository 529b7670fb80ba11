#!/usr/bin/env bash
# Event-Driven Ansible for the collection's event source (extensions/eda): Java 17 (drools_jpy needs it) from
# Debian's packages when no java >= 17 is on PATH (needs root), and .venv-eda with ansible-rulebook. Idempotent: a
# stamp records what the venv was built from, so a second run is instant. Prints the venv's path.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
venv="$repo/.venv-eda"
python="${PYTHON:-python3}"

die() { echo "tools/eda.sh: $*" >&2; exit 1; }

java_major() {
    command -v java >/dev/null 2>&1 || { echo 0; return; }
    java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1
}

if [ "$(java_major)" -lt 17 ]; then
    [ "$(id -u)" -eq 0 ] || die "ansible-rulebook needs Java 17 or later: as root, apt-get install openjdk-17-jre-headless"
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null
    apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends openjdk-17-jre-headless >/dev/null
fi

requirements=$(printf '%s\n' ansible-rulebook "$(grep -E '^(ansible-core|aiohttp)==' "$repo/requirements-dev.txt")" \
    "$(cat "$repo/requirements.txt")")
if [ ! -x "$venv/bin/ansible-rulebook" ] || [ "$(cat "$venv/.requirements" 2>/dev/null)" != "$requirements" ]; then
    rm -rf "$venv"
    "$python" -m venv "$venv"
    printf '%s\n' "$requirements" | grep -v '^\s*#' > "$venv/requirements.txt"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$venv/requirements.txt" \
        > "$venv/pip.log" 2>&1 || { cat "$venv/pip.log" >&2; exit 1; }
    printf '%s' "$requirements" > "$venv/.requirements"
fi
echo "$venv"
