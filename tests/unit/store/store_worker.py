# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A second process for the store tests: holds a token lock, or stops in the middle of a bulk write.

Usage: ``python store_worker.py <command> <location> <token> [options]``, key in ``VPP_STORE_KEY``. It reports on
stdout, one word a line (``trying``, ``locked``, ``released``, ``midway``), and waits for a line on stdin where
the test must decide what happens next.

- ``hold-lock <location> <token> <log> <name> [lease]``: take the lock, log ``<name> acquired``, wait for a line,
  log ``<name> released``, release it.
- ``bulk-delta <location> <token> <rows> <stop_after>``: one large assignment delta (one transaction) that stops
  after ``stop_after`` rows and waits forever: the test kills it there.
- ``bulk-snapshot <location> <token> <rows> <stop_after>``: the same inside a full-sync snapshot.
- ``bulk-members <location> <token> <rows> <stop_after>``: the same writing members of deployment ``bulk``
  straight into the live table.
- ``describe <location> <token>``: print the store's manager id and whether this process generated its key.
"""

from __future__ import annotations

import json
import sys

from ansible_collections.mdm.vpp.plugins.module_utils.store import DEFAULT_LOCK_LEASE, open_store


def say(word):
    sys.stdout.write(word + "\n")
    sys.stdout.flush()


def log(path, text):
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text + "\n")


def hold_lock(store, token, log_path, name, lease=DEFAULT_LOCK_LEASE):
    say("trying")
    with store.token_lock(token, timeout=60, lease=float(lease)):
        log(log_path, "%s acquired" % name)
        say("locked")
        sys.stdin.readline()
        log(log_path, "%s released" % name)
    say("released")


def rows_that_stall(make_row, total, stop_after):
    """``total`` rows; after ``stop_after`` of them, announce it and block (the test kills us there)."""
    for index in range(int(total)):
        if index == int(stop_after):
            say("midway")
            sys.stdin.readline()
        yield make_row(index)


def assignment_row(index):
    return {"adam_id": "9%03d" % (index % 50), "target_kind": "user", "target_id": "bulk-%07d" % index}


def member_row(index):
    return {"member_id": "bulk-%07d" % index, "state": "licensed", "event_id": "bulk-event"}


def bulk_delta(store, token, total, stop_after):
    store.apply_assignment_delta(token, rows_that_stall(assignment_row, total, stop_after), version_id="never")


def bulk_snapshot(store, token, total, stop_after):
    snapshot = store.begin_assignment_snapshot(token)
    snapshot.add_rows(rows_that_stall(assignment_row, total, stop_after))
    snapshot.finish(version_id="never")


def bulk_members(store, _token, total, stop_after):
    store.upsert_members("bulk", rows_that_stall(member_row, total, stop_after))


def describe(store, _token):
    say(json.dumps({"manager_id": store.manager_id, "key_generated": store.key_generated}))


COMMANDS = {"describe": describe, "hold-lock": hold_lock, "bulk-delta": bulk_delta, "bulk-snapshot": bulk_snapshot,
            "bulk-members": bulk_members}  # fmt: skip


def main(argv):
    command, location, *arguments = argv
    with open_store(location) as store:
        COMMANDS[command](store, *arguments)


if __name__ == "__main__":
    main(sys.argv[1:])
