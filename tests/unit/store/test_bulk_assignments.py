# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Store contract: assignments this manager made or removed, recorded in bulk and audited as ours."""

from __future__ import annotations

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.errors import StoreError

TOKEN = "school"


def device(serial, adam_id="1"):
    return {"adam_id": adam_id, "pricing_param": "STDQ", "target_kind": "device", "target_id": serial}


def local_audit(store, kind):
    return sorted(
        entry["target_id"] for entry in store.iter_audit(token=TOKEN, kind=kind) if entry["origin"] == "local"
    )


def test_recording_in_bulk_adds_and_audits_only_new_assignments(registered):
    registered.record_assignment(TOKEN, "1", "STDQ", "device", "S1")
    rows = [device("S%d" % number) for number in range(1, 2502)] + [device("S7")]  # S1 known, S7 twice
    assert registered.record_assignments(TOKEN, rows, run_id="run-1") == 2500
    assert registered.count_assignments(TOKEN) == 2501
    audited = local_audit(registered, "assignment_added")
    assert len(audited) == 2501 and audited.count("S1") == 1 and audited.count("S7") == 1
    assert registered.record_assignments(TOKEN, rows) == 0
    assert len(local_audit(registered, "assignment_added")) == 2501


def test_removing_in_bulk_deletes_and_audits_only_stored_assignments(registered):
    registered.record_assignments(TOKEN, [device("S%d" % number) for number in range(1500)])
    gone = [device("S%d" % number) for number in range(0, 1500, 2)] + [device("unknown"), device("S1", adam_id="2")]
    assert registered.remove_assignments(TOKEN, gone, run_id="run-2") == 750
    assert registered.count_assignments(TOKEN) == 750
    assert registered.count_assignments(TOKEN, target_id="S1") == 1
    removed = local_audit(registered, "assignment_removed")
    assert len(removed) == 750 and "unknown" not in removed
    assert registered.remove_assignments(TOKEN, gone) == 0


def test_a_bad_row_changes_nothing(registered):
    rows = [device("S1"), dict(device("S2"), target_kind="printer")]
    with pytest.raises(StoreError, match="target_kind"):
        registered.record_assignments(TOKEN, rows)
    assert registered.count_assignments(TOKEN) == 0
