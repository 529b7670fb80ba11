#!/usr/bin/env bash
# What Galaxy does on upload, offline: build the collection's tarball, check that it ships no cache, virtual
# environment or scratch folder, and import it with galaxy-importer (with ansible-lint, without ansible-test, which
# wants Docker). Fails on any error the importer reports, and on any warning (ansible-lint's findings among them).
# Usage: tools/galaxy_check.sh [--keep DIR]   (--keep: build into DIR and leave the tarball and the log there)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
venv="$repo/.venv-galaxy"
python="${PYTHON:-python3}"
# What the importer's virtual environment is made of; it is rebuilt when this changes. ansible-core and
# ansible-lint are pinned to the versions of requirements-dev.txt, so that the importer lints as `make lint` does.
requirements=$(printf '%s\n' "galaxy-importer==0.4.44" \
    "$(grep -E '^(ansible-core|ansible-lint)==' "$repo/requirements-dev.txt")")

# One run at a time: a second run would rebuild the shared virtual environment under the first.
exec 9>"$repo/.venv-galaxy.lock"
flock 9

if [ ! -x "$venv/bin/python" ] || [ "$(cat "$venv/.requirements" 2>/dev/null)" != "$requirements" ]; then
    echo "galaxy-check: installing $(echo "$requirements" | tr '\n' ' ')into $venv"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    printf '%s\n' "$requirements" > "$venv/requirements.txt"
    if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$venv/requirements.txt" \
        > "$venv/pip.log" 2>&1; then
        cat "$venv/pip.log" >&2
        exit 1
    fi
    printf '%s' "$requirements" > "$venv/.requirements"
fi

if [ "${1:-}" = "--keep" ]; then
    work=$(mkdir -p "$2" && cd "$2" && pwd)
else
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
fi
# The importer finds ansible-doc and ansible-lint on PATH (without them it skips those steps silently).
export PATH="$venv/bin:$PATH"

"$venv/bin/ansible-galaxy" collection build --force --output-path "$work" "$repo" >/dev/null
tarball=$(ls "$work"/mdm-vpp-*.tar.gz)
echo "galaxy-check: built $tarball ($(tar tzf "$tarball" | wc -l) entries)"

# Caches, virtual environments, scratch and build output, version control: none of them belongs in the tarball.
unwanted='(^|/)(\.venv[^/]*|__pycache__|\.pytest_cache|\.ruff_cache|\.mypy_cache|\.cache|\.tox|\.nox|\.hypothesis|htmlcov|\.git|[^/]*\.egg-info)(/|$)'
unwanted+='|^(run|dist|build|tests/output|\.ci)(/|$)|\.pyc$|\.coverage'
if offending=$(tar tzf "$tarball" | grep -E "$unwanted"); then
    echo "galaxy-check: FAILED: the tarball ships caches or scratch files (add them to build_ignore in galaxy.yml):" >&2
    printf '  %s\n' "${offending//$'\n'/$'\n'  }" >&2
    exit 1
fi

# galaxy.yml names no repository: the collection has no public home yet, and a made-up address would be false
# metadata. Galaxy refuses a collection without one, and the importer stops at that first error, checking nothing
# else; so, unless GALAXY_CHECK_PUBLISH=1 (the check before publishing, which fails on it), the importer gets a
# scratch copy of the tarball whose MANIFEST.json names a marked placeholder (FILES.json does not cover MANIFEST.json).
imported="$tarball"
if [ -z "$(tar xzf "$tarball" -O MANIFEST.json | "$venv/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["collection_info"].get("repository") or "")')" ]; then
    if [ "${GALAXY_CHECK_PUBLISH:-0}" = 1 ]; then
        echo "galaxy-check: FAILED: galaxy.yml names no repository, and Galaxy requires one: set repository: to the collection's public home before publishing" >&2
        exit 1
    fi
    echo "galaxy-check: note: galaxy.yml names no repository (no public home yet); Galaxy requires one, so the importer checks a copy naming a placeholder (GALAXY_CHECK_PUBLISH=1 fails instead)"
    mkdir -p "$work/imported"
    imported="$work/imported/$(basename "$tarball")"
    "$venv/bin/python" - "$tarball" "$imported" <<'PY'
import io, json, sys, tarfile

source, target = sys.argv[1:]
with tarfile.open(source) as src, tarfile.open(target, "w:gz") as dst:
    for member in src.getmembers():
        data = src.extractfile(member) if member.isfile() else None
        if member.name == "MANIFEST.json":
            manifest = json.load(data)
            manifest["collection_info"]["repository"] = "https://placeholder.invalid/no-public-home-yet"
            raw = json.dumps(manifest, indent=4).encode()
            member.size, data = len(raw), io.BytesIO(raw)
        dst.addfile(member, data)
PY
fi

cat > "$work/galaxy-importer.cfg" <<EOF
[galaxy-importer]
RUN_ANSIBLE_TEST = False
RUN_ANSIBLE_LINT = True
CHECK_REQUIRED_TAGS = False
ANSIBLE_LOCAL_TMP = $work/ansible-tmp
TMP_ROOT_DIR = $work
EOF
log="$work/galaxy-importer.log"
status=0
(cd "$work" && GALAXY_IMPORTER_CONFIG="$work/galaxy-importer.cfg" \
    "$venv/bin/python" -m galaxy_importer.main "$imported") > "$log" 2>&1 || status=$?
problems=$(grep -E '^(ERROR|WARNING|CRITICAL)' "$log" || true)
if [ "$status" -ne 0 ] || [ -n "$problems" ] || ! grep -q '^Importer processing completed successfully' "$log"; then
    echo "galaxy-check: FAILED: galaxy-importer (exit $status) reported:" >&2
    if [ -n "$problems" ]; then echo "$problems" >&2; else tail -20 "$log" >&2; fi
    exit 1
fi
echo "galaxy-check: galaxy-importer $("$venv/bin/python" -m pip show galaxy-importer | sed -n 's/^Version: //p') accepts $(basename "$tarball"), ansible-lint included"
