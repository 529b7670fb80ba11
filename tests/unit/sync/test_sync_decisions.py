# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure decisions of the sync engine: which mode, how Apple's records become store rows, what to report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.errors import (
    ConfigurationError,
)
from ansible_collections.mdm.vpp.plugins.module_utils.store import asset_diff
from ansible_collections.mdm.vpp.plugins.module_utils.sync import (
    REASON_NEVER_SYNCED,
    REASON_NO_VERSION,
    REASON_REQUESTED,
    asset_row,
    assignment_key,
    choose_mode,
    count_changes,
    describe_counts,
    failure_message,
    license_picture,
    new_token_result,
    page_assignment_keys,
    store_changed,
    summarize,
    surplus_assignments,
    task_diff,
    user_row,
    validate_options,
)
from ansible_collections.mdm.vpp.plugins.module_utils.sync_decisions import app_label, name_changes

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def synced_token(days_ago=1, **fields):
    token = {
        "last_sync_at": (NOW - timedelta(hours=1)).isoformat(),
        "last_full_sync_at": (NOW - timedelta(days=days_ago)).isoformat(),
        "assignments_version": "v-assignments",
        "users_version": "v-users",
    }
    token.update(fields)
    return token


NEVER_SYNCED = {"last_sync_at": None, "last_full_sync_at": None, "assignments_version": None, "users_version": None}


@pytest.mark.parametrize(
    ("requested", "token", "expected"),
    [
        ("full", synced_token(), ("full", REASON_REQUESTED)),
        ("incremental", synced_token(30), ("incremental", REASON_REQUESTED)),
        ("incremental", NEVER_SYNCED, ("full", REASON_NO_VERSION)),
        ("auto", NEVER_SYNCED, ("full", REASON_NEVER_SYNCED)),
        ("auto", synced_token(2), ("incremental", "auto: last full sync 2 days ago")),
        ("auto", synced_token(7), ("full", "auto: last full sync 7 days ago")),
        ("auto", synced_token(6.9), ("incremental", "auto: last full sync 6 days ago")),
        ("auto", synced_token(1, users_version=None), ("full", REASON_NO_VERSION)),
    ],
)
def test_choose_mode(requested, token, expected):
    assert choose_mode(requested, token, 7, NOW) == expected


def test_auto_with_a_zero_interval_is_always_full():
    assert choose_mode("auto", synced_token(0), 0, NOW)[0] == "full"


def test_asset_rows_keep_counts_and_flag_unlimited_assets():
    limited = asset_row({"adamId": "1", "pricingParam": "PLUS", "productType": "App", "assignedCount": 3,
                         "availableCount": 7, "retiredCount": 0, "totalCount": 10, "deviceAssignable": True,
                         "revocable": True, "supportedPlatforms": ["iOS"]})  # fmt: skip
    assert limited == {
        "adam_id": "1",
        "pricing_param": "PLUS",
        "product_type": "App",
        "total_count": 10,
        "assigned_count": 3,
        "available_count": 7,
        "retired_count": 0,
        "device_assignable": True,
        "revocable": True,
        "platforms": ["iOS"],
        "unlimited": False,
    }
    assert asset_row({"adamId": "2", "totalCount": 2147483647, "assignedCount": 4})["unlimited"] is True
    split = asset_row({"adamId": "3", "assignedCount": 4, "productType": "App"})  # an UnlimitedResponseAsset
    assert split["unlimited"] is True and split["pricing_param"] == "STDQ"


def test_assignment_keys_and_user_rows():
    assert assignment_key({"adamId": 1, "pricingParam": "STDQ", "clientUserId": "u-1"}) == ("1", "STDQ", "user", "u-1")
    assert assignment_key({"adamId": "1", "serialNumber": "C02"}) == ("1", "STDQ", "device", "C02")
    assert user_row({"clientUserId": "u-2", "status": "Registered", "inviteCode": "abc"}) == {
        "client_user_id": "u-2",
        "email": None,
        "status": "Registered",
        "invite_code": "abc",
        "id_hash": None,
    }


def test_a_page_of_assignments_gives_each_record_its_identity_and_counts_those_without_target():
    records = [
        {"adamId": "1", "pricingParam": "STDQ", "clientUserId": "u-1", "serialNumber": "ignored"},
        {"adamId": "2", "serialNumber": " c02acme00050 "},
        {"adamId": "3", "pricingParam": "PLUS", "serialNumber": "C02X", "clientUserId": ""},
        {"adamId": "4", "pricingParam": "", "clientUserId": "u-4"},
        {"adamId": "5"},
        {"adamId": "6", "clientUserId": None, "serialNumber": ""},
    ]
    keys, skipped = page_assignment_keys(records)
    assert keys == [assignment_key(record) for record in records[:4]]
    assert keys[1] == ("2", "STDQ", "device", "C02ACME00050") and keys[3] == ("4", "STDQ", "user", "u-4")
    assert skipped == 2


def row(adam_id, assigned, total=10):
    return {"adam_id": adam_id, "pricing_param": "STDQ", "assigned_count": assigned, "total_count": total,
            "available_count": total - assigned, "retired_count": 0}  # fmt: skip


def test_count_changes_name_added_removed_and_changed_apps():
    diff = asset_diff([row("1", 2), row("2", 1), row("3", 0)], [row("1", 3), row("3", 0), row("4", 0)])
    changes = {change["adam_id"]: change for change in count_changes(diff)}
    assert sorted(changes) == ["1", "2", "4"]
    assert changes["1"]["delta"]["assigned_count"] == 1 and changes["1"]["before"]["assigned_count"] == 2
    assert changes["2"]["after"] is None and changes["4"]["before"] is None
    assert {change["name"] for change in changes.values()} == {None}
    named = {change["adam_id"]: change["name"] for change in count_changes(diff, names={"1": "Pages", "2": "Numbers"})}
    assert named == {"1": "Pages", "2": "Numbers", "4": None}


def test_apps_are_labelled_by_name_and_adam_id_or_by_adam_id_alone():
    assert app_label("1000000108", "STDQ", "Pages") == "Pages (1000000108, STDQ)"
    assert app_label("1000000108", "PLUS") == "1000000108 (PLUS)"
    changes = [{"adam_id": "1", "pricing_param": "STDQ"}, {"adam_id": "2", "pricing_param": "STDQ"}]
    assert name_changes(changes, {"2": "Keynote"}) == [dict(changes[0], name=None), dict(changes[1], name="Keynote")]


def test_surplus_assignments_only_where_the_store_holds_more_than_apple_counts():
    assets = [row("1", 2), row("2", 5)]
    stored = {("1", "STDQ"): 3, ("2", "STDQ"): 4, ("9", "STDQ"): 1}
    surplus = surplus_assignments(assets, stored)
    assert surplus == {("1", "STDQ"): (3, 2), ("9", "STDQ"): (1, 0)}
    assert describe_counts(surplus, limit=1) == "1 (STDQ): 3 stored, 2 at Apple; 1 more"
    assert describe_counts(surplus, names={"9": "Keynote"}) == (
        "1 (STDQ): 3 stored, 2 at Apple; Keynote (9, STDQ): 1 stored, 0 at Apple"
    )


def test_store_changed_and_totals():
    quiet, busy, failed = new_token_result("a"), new_token_result("b"), new_token_result("c")
    quiet["status"] = busy["status"] = "ok"
    busy["assignments"]["added"] = 2
    busy["requests"] = {"total": 3, "by_endpoint": {"GET /assets": 3}}
    quiet["requests"] = {"total": 1, "by_endpoint": {"GET /assets": 1}}
    failed["msg"] = "GET /client/config: token revoked"
    assert not store_changed(quiet) and store_changed(busy)
    quiet["facts_changed"] = ["location_name"]
    assert store_changed(quiet)
    totals = summarize([quiet, busy, failed], 1.23456)
    assert (totals["tokens"], totals["succeeded"], totals["failed"], totals["duration"]) == (3, 2, 1, 1.235)
    assert totals["assignments"] == {"added": 2, "changed": 0, "removed": 0}
    assert totals["requests"] == {"total": 4, "by_endpoint": {"GET /assets": 4}}
    assert failure_message([quiet, failed]) == "1 of 2 token(s) failed to sync: c: GET /client/config: token revoked"


@pytest.mark.parametrize(
    ("mode", "interval", "parallel", "message"),
    [("sometimes", 7, 4, "mode must be"), ("auto", -1, 4, "full_sync_interval_days"), ("full", 7, 0, "parallel")],
)
def test_validate_options_refuses_values_that_cannot_work(mode, interval, parallel, message):
    with pytest.raises(ConfigurationError, match=message):
        validate_options(mode, interval, parallel)


def test_license_picture_and_the_task_diff():
    assets = [dict(row("1", 2), unlimited=False), dict(row("9", 4, total=2147483647), unlimited=True)]
    picture = license_picture(assets, 6, 3)
    assert picture == {
        "assignments": 6,
        "users": 3,
        "apps": {"1 (STDQ)": "2/10 assigned", "9 (STDQ)": "4/unlimited assigned"},
    }
    named = license_picture(assets, 6, 3, names={"1": "Pages"})
    assert named["apps"] == {"Pages (1, STDQ)": "2/10 assigned", "9 (STDQ)": "4/unlimited assigned"}
    ok, failed = new_token_result("hq"), new_token_result("east")
    ok["diff"] = {"before": {"assignments": 5}, "after": picture}
    assert task_diff([ok, failed]) == {"before": {"hq": {"assignments": 5}}, "after": {"hq": picture}}
