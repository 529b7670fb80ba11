#!/usr/bin/env bash
# The changelog, built from changelogs/fragments by antsibull-changelog (docs/releasing.md).
# Usage: tools/changelog.sh check     lint the fragments and changelogs/changelog.yaml, then build the upcoming
#                                     release (galaxy.yml's version) in a scratch copy and check that its
#                                     CHANGELOG.md lists every fragment's entry (make lint runs it)
#        tools/changelog.sh release   cut the release of galaxy.yml's version in this checkout: CHANGELOG.md and
#                                     changelogs/changelog.yaml gain it, the fragments are consumed; commit all
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
bin="$repo/.venv/bin"
# antsibull-changelog lists the new modules and plugins with ansible-doc, which it finds on PATH.
export PATH="$bin:$PATH"

case "${1:-}" in
check)
    cd "$repo"
    antsibull-changelog lint
    antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    dest="$work/ansible_collections/mdm/vpp"
    mkdir -p "$dest"
    git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do
        [ -e "$f" ] && printf '%s\0' "$f"
    done | xargs -0 cp --parents -t "$dest"
    (cd "$dest" && antsibull-changelog release --date "$(date -u +%F)" >"$work/release.log" 2>&1) || {
        cat "$work/release.log" >&2
        exit 1
    }
    # Every entry of every fragment is in the built release, and CHANGELOG.md has one bullet per entry.
    "$bin/python" - "$repo" "$dest" <<'PY'
import glob
import os
import sys

import yaml

repo, dest = sys.argv[1:]
config = yaml.safe_load(open(os.path.join(repo, "changelogs", "config.yaml"), encoding="utf-8"))
sections = {name for name, _ in config["sections"]}
entries = []
for path in sorted(glob.glob(os.path.join(repo, "changelogs", "fragments", "*.yml"))):
    for section, items in (yaml.safe_load(open(path, encoding="utf-8")) or {}).items():
        if section in sections:
            entries.extend(items if isinstance(items, list) else [items])
version = str(yaml.safe_load(open(os.path.join(repo, "galaxy.yml"), encoding="utf-8"))["version"])
release = yaml.safe_load(open(os.path.join(dest, "changelogs", "changelog.yaml"), encoding="utf-8"))["releases"][version]
built = [item for section, items in release.get("changes", {}).items() if section in sections for item in items]
missing = [entry for entry in entries if entry not in built]
changelog = open(os.path.join(dest, "CHANGELOG.md"), encoding="utf-8").read()
bullets = sum(1 for line in changelog.split("\n<a id=\"new-")[0].splitlines() if line.startswith("* "))
heading = "## v" + version.replace(".", "\\.")
if missing or heading not in changelog or bullets < len(entries):
    sys.exit("changelog: the built release %s misses %d fragment entries (%s); %d bullets for %d entries"
             % (version, len(missing), missing[:1], bullets, len(entries)))
print("changelog: fragments lint clean; release %s builds with all %d entries" % (version, len(entries)))
PY
    ;;
release)
    cd "$repo"
    antsibull-changelog lint
    antsibull-changelog release
    echo "changelog: released $(sed -n 's/^version: //p' galaxy.yml): commit CHANGELOG.md, changelogs/ (fragments removed)"
    ;;
*)
    echo "usage: tools/changelog.sh check|release" >&2
    exit 2
    ;;
esac
