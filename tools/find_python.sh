# shellcheck shell=bash
# Sourced by tools/matrix.sh and tools/sanity.sh: find_python X.Y prints an interpreter of Python X.Y: python3.X on
# PATH when it really runs (pyenv's inactive shims do not), else pyenv's ($PYENV_ROOT, default ~/.pyenv).
find_python() {
    local want=$1 candidate
    for candidate in "$(command -v "python$want" || true)" "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$want".*/bin/python"$want"; do
        if [ -z "$candidate" ] || [ ! -x "$candidate" ]; then
            continue
        fi
        if [ "$("$candidate" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)" = "$want" ]; then
            echo "$candidate"
            return 0
        fi
    done
    echo "no Python $want on this machine: install it (for example with pyenv) or leave its pairs out" >&2
    return 1
}
