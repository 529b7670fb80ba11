# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sync engine against the in-process simulator and a real SQLite store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ansible_collections.mdm.vpp.plugins.module_utils.client import VPPClient
from ansible_collections.mdm.vpp.plugins.module_utils.sync import (
    REASON_COUNTS_DISAGREE,
    REASON_NEVER_SYNCED,
    REASON_REQUESTED,
    REASON_VERSION_REJECTED,
    SyncOptions,
    sync_tokens,
)
from tests.sync_helpers import api_counts, apple_assignments, store_assignments
from tests.unit.sync.conftest import LOCATIONS, by_name

HQ = LOCATIONS["hq"]
OTHER_MANAGER = {"id": "other-mdm-id", "name": "Other MDM", "metadata": "Other MDM 9"}


def dump(store):
    """Everything a sync may write, to compare the store before and after."""
    state = {"tokens": store.list_tokens(), "audit": list(store.iter_audit())}
    for name in LOCATIONS:
        state[name] = {
            "assets": store.list_assets(name),
            "assignments": list(store.iter_assignments(name)),
            "users": list(store.iter_users(name)),
        }
    state["metadata"] = [store.get_metadata(adam_id) for adam_id in ("1000000001", "1000000002", "2000000001")]
    return state


def test_full_sync_imports_everything(sync, registered, sim):
    outcome = sync()
    hq = by_name(outcome)["hq"]
    assert (hq["status"], hq["mode"], hq["mode_reason"], hq["changed"]) == ("ok", "full", REASON_REQUESTED, True)
    assert hq["assets"] == {"added": 4, "changed": 0, "removed": 0}
    assert hq["assignments"] == {"added": 3, "changed": 0, "removed": 0}
    assert hq["users"] == {"added": 3, "changed": 0, "removed": 0}
    assert store_assignments(registered, "hq") == apple_assignments(sim, HQ)
    users = {user["client_user_id"]: user["status"] for user in registered.iter_users("hq")}
    assert users == {"u-1": "Associated", "u-2": "Registered", "u-old": "Retired"}
    pages = registered.get_asset("hq", "1000000001")
    assert (pages["total_count"], pages["assigned_count"], pages["available_count"]) == (50, 2, 48)
    assert registered.get_asset("hq", "1000000009")["unlimited"] is True
    assert registered.get_metadata("1000000001")["name"] == "Pages"
    # Pages is also east's: whichever token commits first looks it up
    assert hq["metadata"]["found"] + by_name(outcome)["east"]["metadata"]["found"] >= 4
    assert registered.adam_ids_missing_metadata() == []
    token = registered.get_token("hq")
    versions = sim.location_state(HQ)["versions"]
    assert (token["assignments_version"], token["users_version"]) == (versions["assignments"], versions["users"])
    assert token["last_full_sync_at"] is not None and token["last_full_sync_at"] == token["last_sync_at"]
    assert (token["location_name"], token["country"], token["token_type"]) == ("Example HQ", "US", "business")
    assert outcome["totals"]["succeeded"] == 2 and outcome["changed"] is True


def test_first_import_is_not_audited_row_by_row_but_asset_counts_are(sync, registered):
    outcome = sync(["hq"])
    kinds = {entry["kind"] for entry in registered.iter_audit(run_id=outcome["run_id"])}
    assert kinds == {"asset_count_changed"}


def test_a_second_full_sync_without_changes_changes_nothing(sync, registered):
    sync()
    audit_before = len(list(registered.iter_audit()))
    outcome = sync()
    assert outcome["changed"] is False
    for result in outcome["tokens"]:
        assert result["changed"] is False
        assert result["assignments"] == {"added": 0, "changed": 0, "removed": 0}
        assert result["metadata"] == {"looked_up": 0, "found": 0}
    assert len(list(registered.iter_audit())) == audit_before


def test_incremental_brings_only_the_changes(sync, registered, sim, hq_api):
    sync()
    hq_api.run_event("/assets/associate", {"assets": [{"adamId": "1000000002"}], "clientUserIds": ["u-2"]})
    sim.purchase(HQ, "1000000001", 5)
    sim.purchase(HQ, "3000000001", 2)  # a new app
    sim.accept_invitation(HQ, "u-2")
    sim.clear_request_log()

    hq = by_name(sync(mode="incremental"))["hq"]

    assert (hq["mode"], hq["mode_reason"]) == ("incremental", REASON_REQUESTED)
    assert hq["assignments"] == {"added": 1, "changed": 0, "removed": 0}
    assert hq["users"] == {"added": 0, "changed": 1, "removed": 0}
    assert hq["assets"] == {"added": 1, "changed": 2, "removed": 0}
    changes = {change["adam_id"]: change for change in hq["license_count_changes"]}
    assert changes["1000000001"]["delta"]["total_count"] == 5
    assert changes["1000000002"]["delta"]["assigned_count"] == 1
    assert (changes["3000000001"]["before"], changes["3000000001"]["after"]["total_count"]) == (None, 2)
    assert hq["metadata"] == {"looked_up": 1, "found": 1}
    assert registered.get_metadata("3000000001")["name"] == "App 3000000001"
    assert store_assignments(registered, "hq") == apple_assignments(sim, HQ)
    assert registered.get_user("hq", "u-2")["status"] == "Associated"
    # one delta request each: the deltas carried only the changed records
    log = [entry for entry in sim.request_log(HQ) if entry["path"] == "/mdm/v2/assignments"]
    assert len(log) == 1 and "sinceVersionId" in log[0]["query"]
    assert by_name(sync(mode="incremental"))["hq"]["changed"] is False


def test_changes_are_audited_with_the_run_id(sync, registered, sim, hq_api):
    sync()
    hq_api.run_event("/assets/associate", {"assets": [{"adamId": "1000000002"}], "clientUserIds": ["u-2"]})
    hq_api.run_event("/assets/disassociate", {"assets": [{"adamId": "1000000001"}], "serialNumbers": ["C02XK0AAJG5H"]})
    sim.accept_invitation(HQ, "u-2")

    outcome = sync(["hq"], mode="full")

    entries = list(registered.iter_audit(token="hq", run_id=outcome["run_id"]))
    licenses = {
        (e["kind"], e["adam_id"], e["target_kind"], e["target_id"]) for e in entries if "assignment" in e["kind"]
    }
    assert licenses == {
        ("assignment_added", "1000000002", "user", "u-2"),
        ("assignment_removed", "1000000001", "device", "C02XK0AAJG5H"),
    }
    user_change = next(e for e in entries if e["kind"] == "user_changed")
    assert (user_change["target_id"], user_change["before"]["status"], user_change["after"]["status"]) == (
        "u-2",
        "Registered",
        "Associated",
    )
    counted = {e["adam_id"]: (e["before"]["assigned_count"], e["after"]["assigned_count"])
               for e in entries if e["kind"] == "asset_count_changed"}  # fmt: skip
    assert counted == {"1000000001": (2, 1), "1000000002": (0, 1)}
    assert {e["origin"] for e in entries} == {"apple"}


def test_a_full_sync_finds_removals(sync, registered, sim, hq_api):
    sync()
    hq_api.run_event("/assets/disassociate", {"assets": [{"adamId": "1000000001"}], "clientUserIds": ["u-1"]})
    hq = by_name(sync(["hq"], mode="full"))["hq"]
    assert hq["assignments"] == {"added": 0, "changed": 0, "removed": 1}
    assert store_assignments(registered, "hq") == apple_assignments(sim, HQ)


def test_incremental_falls_back_to_full_when_the_store_holds_removed_licenses(sync, registered, sim, hq_api):
    sync()
    hq_api.run_event("/assets/disassociate", {"assets": [{"adamId": "1000000001"}], "clientUserIds": ["u-1"]})
    hq = by_name(sync(["hq"], mode="incremental"))["hq"]
    assert (hq["mode"], hq["mode_reason"]) == ("full", REASON_COUNTS_DISAGREE)
    assert hq["assignments"]["removed"] == 1
    assert any("no longer counts" in warning for warning in hq["warnings"])
    assert store_assignments(registered, "hq") == apple_assignments(sim, HQ)
    # the fallback is a full sync: the next auto sync counts from now
    assert registered.get_token("hq")["last_full_sync_at"] is not None


def test_a_rejected_version_id_falls_back_to_a_full_sync(sync, registered, sim, hq_api):
    sync()
    registered.mark_synced("hq", assignments_version="b1946ac9-unknown-to-apple")
    hq_api.run_event("/assets/disassociate", {"assets": [{"adamId": "1000000001"}], "clientUserIds": ["u-1"]})
    sim.clear_request_log()

    hq = by_name(sync(["hq"], mode="incremental"))["hq"]

    assert (hq["status"], hq["mode"], hq["mode_reason"]) == ("ok", "full", REASON_VERSION_REJECTED)
    assert any("rejected the stored versionId" in warning for warning in hq["warnings"])
    assert hq["assignments"]["removed"] == 1
    assert [entry["status"] for entry in sim.request_log(HQ) if entry["path"] == "/mdm/v2/assignments"] == [400, 200]
    assert registered.get_token("hq")["assignments_version"] == sim.location_state(HQ)["versions"]["assignments"]


def test_auto_mode_is_full_when_never_synced_or_too_old_and_incremental_otherwise(sync, registered):
    first = by_name(sync(["hq"], mode="auto"))["hq"]
    assert (first["mode"], first["mode_reason"]) == ("full", REASON_NEVER_SYNCED)
    recent = by_name(sync(["hq"], mode="auto"))["hq"]
    assert (recent["mode"], recent["mode_reason"]) == ("incremental", "auto: last full sync 0 days ago")
    later = datetime.now(UTC) + timedelta(days=8)
    old = by_name(sync(["hq"], mode="auto", now=later))["hq"]
    assert (old["mode"], old["mode_reason"]) == ("full", "auto: last full sync 8 days ago")


def test_a_revoked_token_fails_alone_and_its_status_is_recorded(sync, registered, sim):
    sync()
    sim.revoke_token(LOCATIONS["east"])
    outcome = sync()
    results = by_name(outcome)
    assert results["hq"]["status"] == "ok"
    east = results["east"]
    assert (east["status"], east["token_status"], east["error_number"]) == ("failed", "revoked", 9625)
    assert "download the current content token" in east["msg"]
    assert registered.get_token("east")["status"] == "revoked"
    assert len(registered.list_assets("east")) == 1  # the last good data stays
    assert outcome["totals"]["failed"] == 1


def test_a_location_taken_over_by_another_manager_fails_as_claimed_elsewhere(sync, registered, sim):
    sim.set_mdm_info(HQ, OTHER_MANAGER)
    hq = by_name(sync(["hq"]))["hq"]
    assert (hq["status"], hq["token_status"]) == ("failed", "claimed_elsewhere")
    assert "Other MDM" in hq["msg"] and "force_takeover" in hq["msg"]
    assert registered.get_token("hq")["status"] == "claimed_elsewhere"
    assert registered.count_assignments("hq") == 0


def test_a_token_accepted_again_becomes_valid(sync, registered):
    registered.upsert_token("hq", status="revoked")
    hq = by_name(sync(["hq"]))["hq"]
    assert hq["token_status"] == "valid" and "status" in hq["facts_changed"]
    assert registered.get_token("hq")["status"] == "active"


def test_an_unknown_token_name_fails_for_that_name_only(sync):
    results = by_name(sync(["hq", "nope"]))
    assert results["hq"]["status"] == "ok"
    assert results["nope"]["status"] == "failed" and "not registered" in results["nope"]["msg"]


def test_check_mode_reports_drift_and_writes_nothing(sync, registered, sim, hq_api):
    sync()
    hq_api.run_event("/assets/associate", {"assets": [{"adamId": "1000000002"}], "clientUserIds": ["u-2"]})
    hq_api.run_event("/assets/disassociate", {"assets": [{"adamId": "1000000001"}], "clientUserIds": ["u-1"]})
    sim.revoke_token(LOCATIONS["east"])
    before = dump(registered)

    outcome = sync(mode="full", check_mode=True)

    results = by_name(outcome)
    assert results["hq"]["assignments"] == {"added": 1, "changed": 0, "removed": 1}
    assert results["hq"]["changed"] is True
    assert results["east"]["token_status"] == "revoked"
    assert dump(registered) == before


def test_check_mode_of_a_never_synced_token_predicts_the_import(sync, registered):
    before = dump(registered)
    hq = by_name(sync(["hq"], check_mode=True))["hq"]
    assert hq["assignments"]["added"] == 3 and hq["metadata"]["found"] == 4
    assert dump(registered) == before


def test_incremental_without_changes_costs_one_request_per_endpoint(sync, sim):
    sync()
    sim.clear_request_log()
    outcome = sync(mode="incremental")
    for name, location in LOCATIONS.items():
        assert api_counts(sim, location) == {
            "GET /client/config": 1,
            "GET /assets": 1,
            "GET /assignments": 1,
            "GET /users": 1,
        }
        assert by_name(outcome)[name]["requests"]["total"] == 4


def test_an_expired_token_fails_with_its_status_recorded(sync, registered, sim):
    sim.expire_token(LOCATIONS["east"])
    east = by_name(sync())["east"]
    assert (east["status"], east["token_status"], east["error_number"]) == ("failed", "expired", 9621)
    assert "download a new content token" in east["msg"]
    assert registered.get_token("east")["status"] == "expired"


def test_an_unreachable_service_fails_the_token_but_keeps_its_status_and_data(registered, sim, store):
    def impatient_client(secret):
        return VPPClient(sim.url, secret, manager_id=store.manager_id, retries=0, timeout=5)

    sync_tokens(registered, ["hq"], impatient_client, SyncOptions())
    sim.inject_fault("503", count=5, path="/assets")
    hq = by_name(sync_tokens(registered, ["hq"], impatient_client, SyncOptions()))["hq"]
    assert (hq["status"], hq["error_number"], hq["token_status"]) == ("failed", 9729, "valid")
    assert "run again later" in hq["msg"]
    assert registered.get_token("hq")["status"] == "active"
    assert registered.count_assignments("hq") == 3


def test_changes_and_diff_name_apps_by_catalogue_name_and_adam_id(sync, registered, sim, hq_api):
    first = by_name(sync(["hq"], diff=True))["hq"]
    # the first sync names the apps whose metadata it has just looked up
    assert first["diff"]["after"]["apps"]["Pages (1000000001, STDQ)"] == "2/50 assigned"
    assert first["diff"]["before"]["apps"] == {}
    assert {change["name"] for change in first["license_count_changes"]} >= {"Pages", "Keynote", "A Book"}

    hq_api.run_event("/assets/associate", {"assets": [{"adamId": "1000000002"}], "clientUserIds": ["u-2"]})
    sim.purchase(HQ, "3000000001", 2)  # a new app: its metadata arrives with this sync
    hq = by_name(sync(["hq"], diff=True, check_mode=True))["hq"]
    changes = {change["adam_id"]: change["name"] for change in hq["license_count_changes"]}
    assert changes == {"1000000002": "Keynote", "3000000001": "App 3000000001"}
    assert hq["diff"]["before"]["apps"]["Keynote (1000000002, STDQ)"] == "0/3 assigned"
    assert hq["diff"]["after"]["apps"]["Keynote (1000000002, STDQ)"] == "1/3 assigned"
    assert "App 3000000001 (3000000001, STDQ)" in hq["diff"]["after"]["apps"]
    assert registered.get_metadata("3000000001") is None  # check mode kept nothing

    unnamed = by_name(sync(["hq"], diff=True, metadata=False))["hq"]
    assert {change["adam_id"]: change["name"] for change in unnamed["license_count_changes"]} == {
        "1000000002": "Keynote",
        "3000000001": None,
    }
    assert "3000000001 (STDQ)" in unnamed["diff"]["after"]["apps"]
