# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Store contract: serial numbers upper-case (migration 4) and asset counts that follow this manager's writes."""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils import store as store_module

INSERT_ASSIGNMENT = (
    "INSERT INTO assignments (token_id, adam_id, pricing_param, target_kind, target_id) "
    "SELECT id, '1', 'STDQ', ?, ? FROM tokens WHERE name = 'school'"
)


def _old_store(make_store, content_token):
    """A version 3 store with the lower-case serials an earlier collection wrote (and one user id)."""
    old = make_store(migrate_to=3)
    old.upsert_token("school", content_token(), uid="42")
    for kind, target in (("device", "c02acme00050"), ("device", "sn-twin"), ("device", "SN-TWIN"),
                         ("device", "Sn-Mixed"), ("device", "sN-mIXED"), ("user", "u-Lower")):  # fmt: skip
        old.db.execute(INSERT_ASSIGNMENT, (kind, target))
    old.upsert_application("pages", token="school", adam_id="1")
    for name, kind in (("ipads", "device"), ("staff", "user")):
        old.upsert_deployment(name, application="pages", collection_name=name, collection_type=kind,
                              action="install", purpose="required", license_type=kind)  # fmt: skip
    old.upsert_members("ipads", [
        {"member_id": "c02acme00050", "state": "licensed"},
        {"member_id": "dup-1", "state": "failed", "error_number": 9709},
        {"member_id": "DUP-1", "state": "licensed"},
        {"member_id": "Dup-2", "state": "untargeted"},
        {"member_id": "dup-2", "state": "untargeted"},
    ])  # fmt: skip
    old.upsert_members("staff", [{"member_id": "u-Lower", "state": "licensed"}])
    old.close()
    return make_store()


def test_migration_4_upper_cases_serials_and_merges_case_duplicates(make_store, content_token):
    store = _old_store(make_store, content_token)

    assert store.schema_version == store_module.SCHEMA_VERSION >= 4
    held = sorted((row["target_kind"], row["target_id"]) for row in store.iter_assignments("school"))
    assert held == [("device", "C02ACME00050"), ("device", "SN-MIXED"), ("device", "SN-TWIN"), ("user", "u-Lower")]
    members = {row["member_id"]: row["state"] for row in store.list_members("ipads")}
    # a case duplicate keeps its most advanced state: the licensed spelling wins over the failed one
    assert members == {"C02ACME00050": "licensed", "DUP-1": "licensed", "DUP-2": "untargeted"}
    # client user ids are compared exactly by Apple: untouched
    assert [row["member_id"] for row in store.list_members("staff")] == ["u-Lower"]


def test_a_migrated_store_records_serials_upper_case(make_store, content_token):
    store = _old_store(make_store, content_token)
    # this manager's writes name serials in any case: one assignment
    assert store.record_assignment("school", "1", "STDQ", "device", "c02acme00050") is False
    assert store.count_assignments("school", target_kind="device") == 3


def test_asset_counts_move_with_the_licenses_this_manager_gives_and_takes_back(store, content_token):
    store.upsert_token("school", content_token(), uid="42")
    store.replace_assets("school", [
        {"adam_id": "1", "pricing_param": "STDQ", "total_count": 10, "assigned_count": 2, "available_count": 8},
        {"adam_id": "9", "pricing_param": "STDQ", "unlimited": True, "assigned_count": 1},
    ])  # fmt: skip

    assert store.move_asset_counts("school", "1", "STDQ", 3) == {
        "total_count": 10, "assigned_count": 5, "available_count": 5, "retired_count": 0}  # fmt: skip
    assert store.move_asset_counts("school", "1", "STDQ", -1)["available_count"] == 6
    assert store.get_asset("school", "1")["assigned_count"] == 4
    # never below zero, an unlimited app's available count untouched, nothing to move for an unknown asset
    assert store.move_asset_counts("school", "1", "STDQ", -9)["assigned_count"] == 0
    assert store.move_asset_counts("school", "9", "STDQ", 2)["available_count"] == 0
    assert store.get_asset("school", "9")["assigned_count"] == 3
    assert store.move_asset_counts("school", "404", "STDQ", 1) is None
    assert store.move_asset_counts("school", "1", "STDQ", 0) is None
    # the next sync takes Apple's counts again
    store.replace_assets("school", [{"adam_id": "1", "pricing_param": "STDQ", "total_count": 10,
                                     "assigned_count": 4, "available_count": 6}])  # fmt: skip
    assert store.get_asset("school", "1")["assigned_count"] == 4
