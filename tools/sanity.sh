#!/usr/bin/env bash
# Run ansible-test sanity on this checkout without Docker and without the download ansible-test cannot make here.
# Usage: tools/sanity.sh [extra ansible-test arguments]
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
venv="$repo/.venv-sanity"
python="${PYTHON:-python3}"
# One run at a time: a second run would rebuild the shared virtual environment under the first.
exec 9>"$repo/.venv-sanity.lock"
flock 9

core_version=$(sed -n 's/^ansible-core==//p' "$repo/requirements-dev.txt")

# A separate virtual environment: ansible-test installs its own pinned linters into it.
if [ ! -x "$venv/bin/ansible-test" ] || ! "$venv/bin/python" -m pip show ansible-core 2>/dev/null | grep -qx "Version: $core_version"; then
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
