# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Store contract: what a sync writes — assets, metadata, assignments, users — and the audit log of changes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.errors import StoreError

TOKEN = "school"


def user_assignment(adam_id, user, pricing_param="STDQ"):
    return {"adam_id": adam_id, "pricing_param": pricing_param, "target_kind": "user", "target_id": user}


def device_assignment(adam_id, serial):
    return {"adam_id": adam_id, "pricing_param": "STDQ", "target_kind": "device", "target_id": serial}


def full_sync(store, rows, **finish_options):
    """A full assignment sync the way the sync engine does it: page by page, then finish."""
    snapshot = store.begin_assignment_snapshot(TOKEN)
    for start in range(0, len(rows), 3):
        snapshot.add_rows(rows[start : start + 3])
    return snapshot.finish(**finish_options)


def audit_entries(store, **filters):
    return [
        (e["kind"], e["adam_id"], e["target_kind"], e["target_id"], e["origin"])
        for e in store.iter_audit(token=TOKEN, **filters)
    ]


# --- assets and metadata ---------------------------------------------------------------------------------------


def asset(adam_id, total, assigned, **extra):
    return dict(
        adam_id=adam_id, pricing_param="STDQ", product_type="App", total_count=total, assigned_count=assigned,
        available_count=total - assigned, retired_count=0, device_assignable=True, revocable=True,
        platforms=["iOS", "macOS"], **extra,
    )  # fmt: skip


def test_assets_round_trip(registered):
    registered.replace_assets(TOKEN, [asset("1", 10, 3), asset("2", 2147483647, 0, unlimited=True)])
    stored = registered.get_asset(TOKEN, "1")
    assert stored["total_count"] == 10 and stored["available_count"] == 7
    assert stored["device_assignable"] is True and stored["platforms"] == ["iOS", "macOS"]
    assert registered.get_asset(TOKEN, "2")["unlimited"] is True
    assert registered.get_asset(TOKEN, "1", "PLUS") is None
    assert [a["adam_id"] for a in registered.list_assets(TOKEN)] == ["1", "2"]
    assert [a["adam_id"] for a in registered.list_assets(TOKEN, adam_id="2")] == ["2"]


def test_replace_assets_reports_added_changed_removed_with_count_deltas(registered):
    first = registered.replace_assets(TOKEN, [asset("1", 10, 3), asset("2", 5, 5)])
    assert [a["adam_id"] for a in first["added"]] == ["1", "2"]

    diff = registered.replace_assets(TOKEN, [asset("1", 15, 4), asset("3", 1, 0)], run_id="run-2")

    assert [a["adam_id"] for a in diff["added"]] == ["3"]
    assert [a["adam_id"] for a in diff["removed"]] == ["2"]
    [change] = diff["changed"]
    assert change["adam_id"] == "1"
    assert change["delta"] == {"total_count": 5, "assigned_count": 1, "available_count": 4, "retired_count": 0}
    assert [a["adam_id"] for a in registered.list_assets(TOKEN)] == ["1", "3"]
    [logged] = [e for e in registered.iter_audit(token=TOKEN, run_id="run-2") if e["adam_id"] == "1"]
    assert logged["kind"] == "asset_count_changed"
    assert (logged["before"]["total_count"], logged["after"]["total_count"]) == (10, 15)


def test_unchanged_assets_give_an_empty_diff(registered):
    registered.replace_assets(TOKEN, [asset("1", 10, 3)])
    assert registered.replace_assets(TOKEN, [asset("1", 10, 3)]) == {"added": [], "changed": [], "removed": []}


def test_metadata_round_trip_and_missing_list(registered):
    registered.replace_assets(TOKEN, [asset("1", 1, 0), asset("2", 1, 0)])
    assert registered.adam_ids_missing_metadata(TOKEN) == ["1", "2"]
    registered.put_metadata(
        [{"adam_id": "1", "name": "Pages", "bundle_id": "com.apple.Pages", "version": "14.1", "kind": "software",
          "icon_url": "https://example.org/pages.png", "platforms": ["iOS"]}]
    )  # fmt: skip
    assert registered.get_metadata("1")["bundle_id"] == "com.apple.Pages"
    assert registered.get_metadata("1")["platforms"] == ["iOS"]
    assert registered.adam_ids_missing_metadata() == ["2"]
    registered.put_metadata([{"adam_id": "1", "name": "Pages", "version": "14.2"}])
    assert registered.get_metadata("1")["version"] == "14.2"
    assert registered.get_metadata("404") is None


# --- assignments ----------------------------------------------------------------------------------------------


def test_full_sync_adds_and_removes_and_audits_each_change(registered):
    full_sync(registered, [user_assignment("1", "u1"), user_assignment("1", "u2"), device_assignment("1", "SN1")])
    result = full_sync(
        registered,
        [user_assignment("1", "u2"), device_assignment("1", "SN1"), user_assignment("2", "u1")],
        version_id="v2",
        run_id="run-2",
    )
    assert result == {"added": 1, "removed": 1}
    assert list(registered.iter_assignments(TOKEN)) == [
        device_assignment("1", "SN1"),
        user_assignment("1", "u2"),
        user_assignment("2", "u1"),
    ]
    assert sorted(audit_entries(registered, run_id="run-2")) == [
        ("assignment_added", "2", "user", "u1", "apple"),
        ("assignment_removed", "1", "user", "u1", "apple"),
    ]
    assert registered.get_token(TOKEN)["assignments_version"] == "v2"


def test_full_sync_without_audit_for_a_first_import(registered):
    assert full_sync(registered, [user_assignment("1", "u1")], audit=False) == {"added": 1, "removed": 0}
    assert audit_entries(registered) == []


def test_duplicate_rows_across_pages_count_once(registered):
    rows = [user_assignment("1", "u1")] * 4
    assert full_sync(registered, rows) == {"added": 1, "removed": 0}
    assert registered.count_assignments(TOKEN) == 1


def test_an_aborted_snapshot_leaves_assignments_untouched(registered):
    full_sync(registered, [user_assignment("1", "u1")])
    with pytest.raises(RuntimeError), registered.begin_assignment_snapshot(TOKEN) as snapshot:
        snapshot.add_rows([user_assignment("9", "u9")])
        raise RuntimeError("page 3 failed")
    assert list(registered.iter_assignments(TOKEN)) == [user_assignment("1", "u1")]
    # and the next full sync starts from an empty staging table
    assert full_sync(registered, [user_assignment("1", "u1")]) == {"added": 0, "removed": 0}


def test_staging_takes_no_write_lock_and_is_private_to_its_connection(registered, make_store):
    full_sync(registered, [user_assignment("1", "u1")])
    snapshot = registered.begin_assignment_snapshot(TOKEN)
    snapshot.add_rows([user_assignment("2", "u%d" % index) for index in range(2500)])
    other_job = make_store(busy_timeout=0.5)
    # another job writes while this one is halfway through a listing, and sees none of its staged rows
    other_job.upsert_token(TOKEN, description="renamed meanwhile")
    assert other_job.count_assignments(TOKEN) == 1
    other_snapshot = other_job.begin_assignment_snapshot(TOKEN)
    other_snapshot.add_rows([user_assignment("1", "u1")])
    assert other_snapshot.finish() == {"added": 0, "removed": 0}
    assert snapshot.finish() == {"added": 2500, "removed": 1}
    assert registered.get_token(TOKEN)["description"] == "renamed meanwhile"


def test_a_full_sync_with_live_rows_adds_removes_and_keeps_in_one_pass(registered):
    full_sync(registered, [user_assignment("1", "u%d" % index) for index in range(10)])
    rows = [user_assignment("1", "u%d" % index) for index in range(5, 15)] + [device_assignment("1", "SN1")] * 2
    assert full_sync(registered, rows, run_id="resync") == {"added": 6, "removed": 5}
    assert registered.count_assignments(TOKEN) == 11
    kinds = [entry[0] for entry in audit_entries(registered, run_id="resync")]
    assert sorted(kinds) == ["assignment_added"] * 6 + ["assignment_removed"] * 5


def test_an_empty_full_sync_removes_everything(registered):
    full_sync(registered, [user_assignment("1", "u1"), user_assignment("1", "u2")])
    assert full_sync(registered, []) == {"added": 0, "removed": 2}
    assert registered.count_assignments(TOKEN) == 0


def test_snapshots_of_two_tokens_do_not_mix(registered, content_token):
    registered.upsert_token("other", content_token(secret="other-secret"))
    full_sync(registered, [user_assignment("1", "u1")])
    other = registered.begin_assignment_snapshot("other")
    other.add_rows([user_assignment("5", "x")])
    assert other.finish() == {"added": 1, "removed": 0}
    assert registered.count_assignments(TOKEN) == 1
    assert registered.count_assignments("other") == 1


def test_delta_adds_but_never_removes(registered):
    full_sync(registered, [user_assignment("1", "u1")])
    result = registered.apply_assignment_delta(
        TOKEN, [user_assignment("1", "u1"), user_assignment("1", "u3")], version_id="v9", run_id="delta-1"
    )
    assert result == {"added": 1, "removed": 0}
    assert registered.count_assignments(TOKEN) == 2
    assert audit_entries(registered, run_id="delta-1") == [("assignment_added", "1", "user", "u3", "apple")]
    assert registered.get_token(TOKEN)["assignments_version"] == "v9"


def test_changes_we_make_ourselves_are_recorded_and_audited_as_local(registered):
    assert registered.record_assignment(TOKEN, "1", "STDQ", "device", "SN9", run_id="deploy-1") is True
    assert registered.record_assignment(TOKEN, "1", "STDQ", "device", "SN9") is False
    assert registered.remove_assignment(TOKEN, "1", "STDQ", "device", "SN9", run_id="deploy-1") is True
    assert registered.remove_assignment(TOKEN, "1", "STDQ", "device", "SN9") is False
    assert audit_entries(registered, run_id="deploy-1") == [
        ("assignment_added", "1", "device", "SN9", "local"),
        ("assignment_removed", "1", "device", "SN9", "local"),
    ]


def test_invalid_target_kind_is_refused(registered):
    with pytest.raises(StoreError, match="target_kind"):
        registered.record_assignment(TOKEN, "1", "STDQ", "printer", "P1")


def test_iter_and_count_assignments_with_filters(registered):
    full_sync(
        registered,
        [user_assignment("1", "u1"), user_assignment("1", "u2", "PLUS"), device_assignment("1", "SN1"),
         user_assignment("2", "u1")],
    )  # fmt: skip
    assert registered.count_assignments(TOKEN) == 4
    assert registered.count_assignments(TOKEN, adam_id="1") == 3
    assert registered.count_assignments(TOKEN, adam_id="1", pricing_param="STDQ") == 2
    assert registered.count_assignments(TOKEN, target_kind="device") == 1
    assert [a["adam_id"] for a in registered.iter_assignments(TOKEN, target_id="u1")] == ["1", "2"]
    assert list(registered.iter_assignments(TOKEN, adam_id="3")) == []


def test_iter_assignments_streams_more_rows_than_one_batch(registered):
    rows = [user_assignment("1", "u%05d" % index) for index in range(2500)]
    registered.begin_assignment_snapshot(TOKEN).add_rows(rows)  # abandoned snapshot: staging only
    snapshot = registered.begin_assignment_snapshot(TOKEN)
    snapshot.add_rows(iter(rows))
    assert snapshot.finish(audit=False) == {"added": 2500, "removed": 0}
    streamed = registered.iter_assignments(TOKEN)
    assert next(streamed)["target_id"] == "u00000"
    assert sum(1 for _row in streamed) == 2499


def test_threads_sharing_one_store_sync_their_tokens_at_the_same_time(registered, content_token):
    names = ["t%d" % index for index in range(4)]
    for name in names:
        registered.upsert_token(name, content_token(secret="secret-" + name))

    def sync(name):
        with registered.token_lock(name, timeout=60):
            snapshot = registered.begin_assignment_snapshot(name)
            for page in range(5):
                snapshot.add_rows(user_assignment(name, "%s-%d-%d" % (name, page, i)) for i in range(300))
            return snapshot.finish(version_id=name)

    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        results = list(pool.map(sync, names))
    assert results == [{"added": 1500, "removed": 0}] * len(names)
    for name in names:
        assert registered.count_assignments(name) == 1500
        assert registered.count_assignments(name, adam_id=name) == 1500
        assert registered.get_token(name)["assignments_version"] == name


# --- users ----------------------------------------------------------------------------------------------------


def test_user_snapshot_adds_changes_removes_and_audits(registered):
    snapshot = registered.begin_user_snapshot(TOKEN)
    snapshot.add_rows(
        [{"client_user_id": "u1", "email": "a@example.org", "status": "Registered", "invite_code": "inv1"},
         {"client_user_id": "u2", "email": "b@example.org", "status": "Associated", "id_hash": "h2"}]
    )  # fmt: skip
    assert snapshot.finish(run_id="users-1") == {"added": 2, "changed": 0, "removed": 0}

    snapshot = registered.begin_user_snapshot(TOKEN)
    snapshot.add_rows([{"client_user_id": "u1", "email": "a@example.org", "status": "Associated", "id_hash": "h1"}])
    assert snapshot.finish(run_id="users-2", version_id="uv2") == {"added": 0, "changed": 1, "removed": 1}

    [user] = registered.iter_users(TOKEN)
    assert (user["client_user_id"], user["status"], user["id_hash"], user["invite_code"]) == (
        "u1", "Associated", "h1", None,
    )  # fmt: skip
    changes = {e["kind"]: e for e in registered.iter_audit(token=TOKEN, run_id="users-2")}
    assert changes["user_changed"]["before"]["status"] == "Registered"
    assert changes["user_changed"]["after"]["status"] == "Associated"
    assert changes["user_removed"]["target_id"] == "u2"
    assert registered.get_token(TOKEN)["users_version"] == "uv2"


def test_active_record_wins_over_retired_ones_of_the_same_client_user_id(registered):
    snapshot = registered.begin_user_snapshot(TOKEN)
    snapshot.add_rows([{"client_user_id": "u1", "status": "Retired"}])
    snapshot.add_rows([{"client_user_id": "u1", "status": "Associated", "id_hash": "new"}])
    snapshot.add_rows([{"client_user_id": "u1", "status": "Retired", "id_hash": "old"}])
    snapshot.finish()
    assert registered.get_user(TOKEN, "u1")["status"] == "Associated"
    assert registered.get_user(TOKEN, "u1")["id_hash"] == "new"


def test_user_delta_changes_without_removing(registered):
    registered.apply_user_delta(TOKEN, [{"client_user_id": "u1", "status": "Registered"},
                                        {"client_user_id": "u2", "status": "Registered"}])  # fmt: skip
    result = registered.apply_user_delta(TOKEN, [{"client_user_id": "u1", "status": "Retired"}], version_id="uv5")
    assert result == {"added": 0, "changed": 1, "removed": 0}
    assert registered.count_users(TOKEN) == 2
    assert registered.count_users(TOKEN, status="Retired") == 1
    assert [u["client_user_id"] for u in registered.iter_users(TOKEN, status="Registered")] == ["u2"]


def test_record_user_keeps_the_managed_apple_id_through_syncs(registered):
    registered.record_user(TOKEN, "u1", email="a@example.org", managed_apple_id="a@school.appleid.com",
                           status="Registered", run_id="deploy-7")  # fmt: skip
    registered.apply_user_delta(TOKEN, [{"client_user_id": "u1", "email": "a@example.org", "status": "Associated"}])
    user = registered.get_user(TOKEN, "u1")
    assert (user["status"], user["managed_apple_id"]) == ("Associated", "a@school.appleid.com")
    assert audit_entries(registered, run_id="deploy-7") == [("user_added", None, "user", "u1", "local")]


# --- audit ----------------------------------------------------------------------------------------------------


def test_audit_entries_round_trip_and_filter(registered):
    registered.audit(TOKEN, "asset_count_changed", adam_id="1", pricing_param="STDQ",
                     before={"total_count": 1}, after={"total_count": 3}, run_id="r1", origin="apple")  # fmt: skip
    registered.audit(TOKEN, "user_removed", target_kind="user", target_id="u1", run_id="r2")
    [entry] = registered.iter_audit(token=TOKEN, kind="asset_count_changed")
    assert entry["before"] == {"total_count": 1} and entry["after"] == {"total_count": 3}
    assert entry["origin"] == "apple" and entry["token"] == TOKEN
    assert [e["run_id"] for e in registered.iter_audit(limit=1)] == ["r1"]
    assert [e["run_id"] for e in registered.iter_audit(since=entry["recorded_at"])] == ["r1", "r2"]
    assert list(registered.iter_audit(since="2999-01-01T00:00:00+00:00")) == []
    with pytest.raises(StoreError, match="audit kind"):
        registered.audit(TOKEN, "coffee_spilled")
