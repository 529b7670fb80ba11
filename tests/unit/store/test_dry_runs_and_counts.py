# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Store contract: dry-run transactions (check mode) and assignment counts per asset (the sync's removal check)."""

from __future__ import annotations

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.errors import StoreError

TOKEN = "school"


def assignment(adam_id, target, kind="user"):
    return {"adam_id": adam_id, "pricing_param": "STDQ", "target_kind": kind, "target_id": target}


def full_sync(store, rows):
    snapshot = store.begin_assignment_snapshot(TOKEN)
    snapshot.add_rows(rows)
    return snapshot.finish(run_id="run")


def test_a_rolled_back_transaction_keeps_nothing_but_sees_its_own_writes(registered):
    with registered.transaction(rollback=True):
        registered.replace_assets(TOKEN, [{"adam_id": "1", "total_count": 5}])
        assert full_sync(registered, [assignment("1", "u-1")]) == {"added": 1, "removed": 0}
        registered.mark_synced(TOKEN, full=True)
        assert registered.count_assignments(TOKEN) == 1
    assert registered.list_assets(TOKEN) == []
    assert registered.count_assignments(TOKEN) == 0
    assert registered.get_token(TOKEN)["last_sync_at"] is None
    assert list(registered.iter_audit()) == []


def test_a_rolled_back_block_inside_a_transaction_undoes_only_itself(registered):
    with registered.transaction():
        registered.replace_assets(TOKEN, [{"adam_id": "1", "total_count": 5}])
        with registered.transaction(rollback=True):
            registered.replace_assets(TOKEN, [{"adam_id": "2", "total_count": 1}])
        registered.upsert_token(TOKEN, description="kept")
    assert [asset["adam_id"] for asset in registered.list_assets(TOKEN)] == ["1"]
    assert registered.get_token(TOKEN)["description"] == "kept"


def test_a_rolled_back_transaction_still_rolls_back_on_error(registered):
    with pytest.raises(StoreError), registered.transaction(rollback=True):
        registered.upsert_token(TOKEN, description="lost")
        registered.mark_synced("no such token")
    assert registered.get_token(TOKEN)["description"] is None
    registered.upsert_token(TOKEN, description="the connection is usable again")
    assert registered.get_token(TOKEN)["description"] == "the connection is usable again"


def test_assignment_counts_per_asset(registered, content_token):
    assert registered.assignment_counts(TOKEN) == {}
    full_sync(
        registered,
        [assignment("1", "u-1"), assignment("1", "C02", "device"), assignment("2", "u-1")],
    )
    registered.upsert_token("other", content_token(secret="other-secret"))
    registered.record_assignment("other", "1", "STDQ", "user", "u-9")
    assert registered.assignment_counts(TOKEN) == {("1", "STDQ"): 2, ("2", "STDQ"): 1}
    assert registered.assignment_counts("other") == {("1", "STDQ"): 1}


def test_assignment_counts_of_an_unknown_token_is_an_error(store):
    with pytest.raises(StoreError, match="not registered"):
        store.assignment_counts("nope")
