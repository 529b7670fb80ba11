# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""deployments.py's pure helpers: which member rows a plan writes, its prediction, events kept for resuming."""

from __future__ import annotations

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.client import outcomes_for
from ansible_collections.mdm.vpp.plugins.module_utils.deployment_views import member_states, predicted_states
from ansible_collections.mdm.vpp.plugins.module_utils.deployments import (
    batch_from_event,
    member_changes,
    predicted_rows,
)
from ansible_collections.mdm.vpp.plugins.module_utils.intents import event_request
from ansible_collections.mdm.vpp.plugins.module_utils.licensing import parse_members, plan_deployment

LIMITS = {"maxClientUserIds": 100, "maxSerialNumbers": 100, "maxUsers": 100}
APP = {"available_count": 1, "unlimited": False, "revocable": True, "product_type": "App"}
OPTIONS = {"action": "install", "license_type": "device", "collection_type": "device", "allow_partial": True,
           "reclaim_removed": False}  # fmt: skip


def planned(members, stored, holders):
    return plan_deployment(parse_members("device", members), stored, holders, {}, APP, OPTIONS, LIMITS)


def test_member_changes_write_new_members_and_decided_states_only():
    stored = {
        "SN1": {"member_id": "SN1", "state": "licensed", "device_user": None, "license_type": "device",
                "error_number": None, "error_message": None},
        "SN9": {"member_id": "SN9", "state": "licensed", "device_user": None, "license_type": "device"},
    }  # fmt: skip
    plan = planned(["SN1", "SN2", "SN3"], stored, {("device", "SN1"), ("device", "SN9")})
    rows = {
        row["member_id"]: row for row in member_changes(plan, stored, parse_members("device", ["SN1", "SN2", "SN3"]))
    }
    assert "SN1" not in rows  # unchanged: nothing written
    assert rows["SN2"] == {"member_id": "SN2", "device_user": None, "license_type": "device"}  # to license
    assert rows["SN3"]["state"] == "failed" and rows["SN3"]["error_number"] == 9709  # no license left for it
    assert rows["SN9"] == {"member_id": "SN9", "state": "untargeted"}


def test_predicted_rows_follow_the_plan():
    stored = {"SN9": {"member_id": "SN9", "state": "failed"}}
    plan = planned(["SN1", "SN2"], stored, set())
    states = {
        row["member_id"]: row["state"]
        for row in predicted_rows(plan, stored, [{"member_id": "SN1"}, {"member_id": "SN2"}], True)
    }
    assert states == {"SN1": "licensed", "SN2": "failed"}  # SN9 held nothing: forgotten
    pending = predicted_rows(plan, stored, [{"member_id": "SN1"}, {"member_id": "SN2"}], False)
    assert {row["member_id"]: row["state"] for row in pending}["SN1"] == "pending"


def row(member_id, state, event_id=None):
    return {"member_id": member_id, "state": state, "device_user": None, "license_type": "device",
            "event_id": event_id}  # fmt: skip


@pytest.mark.parametrize("wait", [True, False])
@pytest.mark.parametrize(
    ("action", "reclaim_removed", "stored", "holders"),
    [
        ("install", False, {}, set()),  # a new deployment
        ("install", False, {"SN1": row("SN1", "licensed"), "SN9": row("SN9", "licensed"), "SN8": row("SN8", "failed"),
                            "SN2": row("SN2", "pending", "ev-1")}, {("device", "SN1"), ("device", "SN9")}),
        ("install", True, {"SN1": row("SN1", "licensed"), "SN9": row("SN9", "licensed")},
         {("device", "SN1"), ("device", "SN9")}),
        ("install", False, {"SN7": row("SN7", "reclaimed")}, set()),  # reclaimed earlier, left since
        ("uninstall", False, {"SN1": row("SN1", "licensed"), "SN2": row("SN2", "licensed"),
                              "SN9": row("SN9", "untargeted")}, {("device", "SN1"), ("device", "SN9")}),
    ],
)  # fmt: skip
def test_predicted_states_count_what_predicted_rows_hold(action, reclaim_removed, stored, holders, wait):
    """Check mode without an MDM counts the predicted states instead of building a row a member: the same counts."""
    members = parse_members("device", ["SN1", "SN2", "SN3", "SN4"])
    options = dict(OPTIONS, action=action, reclaim_removed=reclaim_removed)
    app = dict(APP, available_count=2)
    plan = plan_deployment(members, stored, holders, {}, app, options, LIMITS)
    expected = member_states(predicted_rows(plan, stored, members, wait))
    assert predicted_states(plan, stored, members, wait) == expected
    assert predicted_states(plan, stored, list(members), wait) == expected
    assert sum(expected.values()) >= len(members) - len(plan["forgotten"])


def test_a_stored_event_maps_apple_outcomes_back_like_the_submitted_batch():
    submitted = {"event_id": "ev-1", "type": "ASSOCIATE", "assets": [{"adamId": "1", "pricingParam": "STDQ"}],
                 "client_user_ids": [], "serial_numbers": ["SN1", "SN2"], "users": []}  # fmt: skip
    stored = {"event_id": "ev-1", "event_type": "ASSOCIATE", "request": event_request(submitted)}
    status = {"eventStatus": "FAILED", "failures": [{"errorNumber": 9709, "errorInfo": {"serialNumbers": ["SN2"]}}]}
    assert outcomes_for(batch_from_event(stored), status) == outcomes_for(submitted, status)
    assert [outcome["succeeded"] for outcome in outcomes_for(batch_from_event(stored), status)] == [True, False]


def test_a_stored_user_creation_keeps_the_ids_only():
    submitted = {"event_id": "ev-2", "type": "CREATE", "assets": [],
                 "users": [{"clientUserId": "u-1", "email": "a@example.org"}]}  # fmt: skip
    request = event_request(submitted)
    assert request == {"assets": [], "client_user_ids": ["u-1"], "serial_numbers": []}
    batch = batch_from_event({"event_id": "ev-2", "event_type": "CREATE", "request": request})
    assert batch["users"] == [{"clientUserId": "u-1"}] and batch["type"] == "CREATE"
