#!/usr/bin/env bash
# Run ansible-test sanity on this checkout without Docker and without the download ansible-test cannot make here.
# Usage: tools/sanity.sh [--pair CORE:PYTHON] [extra ansible-test arguments]
#   default: ansible-core of requirements-dev.txt on $PYTHON (python3), in .venv-sanity;
#   --pair:  that ansible-core's ansible-test on that Python X.Y (a pair of the support matrix, tests/matrix/pairs.txt),
#            in .venv-sanity-<core>-py<X.Y>; make matrix runs it for every supported Python.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
if [ "${1:-}" = "--pair" ]; then
    pair=$2
    shift 2
    # shellcheck source=tools/find_python.sh
    . "$repo/tools/find_python.sh"
    core_version=${pair%%:*}
    python=$(find_python "${pair#*:}")
    venv="$repo/.venv-sanity-$core_version-py${pair#*:}"
else
    core_version=$(sed -n 's/^ansible-core==//p' "$repo/requirements-dev.txt")
    python="${PYTHON:-python3}"
    venv="$repo/.venv-sanity"
fi
# One run at a time per environment: a second run would rebuild the virtual environment under the first.
exec 9>"$venv.lock"
flock 9

# A separate virtual environment: ansible-test installs its own pinned linters into it.
if [ ! -x "$venv/bin/ansible-test" ] || ! "$venv/bin/python" -m pip show ansible-core 2>/dev/null | grep -qx "Version: $core_version" \
    || [ "$("$venv/bin/python" -VV)" != "$("$python" -VV)" ]; then
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "ansible-core==$core_version"
fi

# ansible-test's shellcheck test needs the program; without it the test would be skipped.
"$repo/tools/debian-packages.sh" shellcheck:shellcheck

# ansible-test looks for its pip bootstrap script in this cache before downloading it.
cache="$HOME/.ansible/test/cache"
mkdir -p "$cache"
for version in $(grep -ho "pip='[0-9.]*'" "$venv"/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py | tr -dc '0-9.\n'); do
    cp "$repo/tools/ansible_test_get_pip.py" "$cache/get_pip_${version//./_}.py"
done

# ansible-test needs the collection at ansible_collections/<namespace>/<name>: copy the files git knows about
# (tracked and untracked-but-not-ignored) into a temporary tree.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dest="$work/ansible_collections/mdm/vpp"
mkdir -p "$dest"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
    [ -e "$f" ] && printf '%s\0' "$f"
done | xargs -0 cp --parents -t "$dest")

cd "$dest"
"$venv/bin/ansible-test" sanity --local --python "$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')" \
    --requirements --color no "$@"
