# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Copy an mdm.vpp store into a new, empty one: a SQLite file into PostgreSQL, or back (docs/postgresql.md).

Usage: tools/store-copy SOURCE TARGET   (or: python3 tools/store_copy.py SOURCE TARGET)
  SOURCE, TARGET  a file path, sqlite:///absolute/path/vpp.db or a postgresql:// DSN
  The store key comes from VPP_STORE_KEY, else from the source's key file (<db>.key); the copy opens with the
  same key. Give DSNs with passwords through environment variables (e.g. "$VPP_STORE"), not typed on the
  command line where the shell history keeps them; the output never shows a password.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))


def make_collection_importable():
    """Import ``ansible_collections.mdm.vpp`` from this checkout (or from the installed collection it is in)."""
    parts = REPO_ROOT.split(os.sep)
    if parts[-3:-1] == ["ansible_collections", "mdm"] and parts[-1] == "vpp":
        sys.path.insert(0, os.sep.join(parts[:-3]))
        return
    parent = tempfile.mkdtemp(prefix="mdm-vpp-store-copy-")
    atexit.register(shutil.rmtree, parent, True)
    os.makedirs(os.path.join(parent, "ansible_collections", "mdm"))
    os.symlink(REPO_ROOT, os.path.join(parent, "ansible_collections", "mdm", "vpp"))
    sys.path.insert(0, parent)


def main(argv):
    if len(argv) != 2 or argv[0] in ("-h", "--help"):
        sys.stderr.write(__doc__)
        return 2
    make_collection_importable()
    from ansible_collections.mdm.vpp.plugins.module_utils.errors import StoreError
    from ansible_collections.mdm.vpp.plugins.module_utils.store.copy import copy_store

    try:
        summary = copy_store(argv[0], argv[1])
    except StoreError as exc:
        sys.stderr.write("store copy failed: %s\n" % exc)
        return 1
    print("copied %s -> %s" % (summary["source"], summary["target"]))
    for table, count in summary["rows"].items():
        print("  %-20s %d rows" % (table, count))
    if summary["key_file"]:
        print("the copy's key file: %s (the same key as the source's)" % summary["key_file"])
    elif not os.environ.get("VPP_STORE_KEY"):
        print("open the copy with the source's key: set VPP_STORE_KEY (or store_key) to the content of its key file")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
