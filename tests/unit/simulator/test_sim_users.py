# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""User lifecycle and the users/assignments read filters (reference §4.6, §6.5, §8, §16.7)."""

from __future__ import annotations

import re

import pytest
import requests

from tests.simulator.testing import assert_error


def users(api, **params):
    return api.ok("GET", "/users", **params)["users"]


def test_create_registers_the_user_with_an_invite_code(quiet_hq):
    status = quiet_hq.run_event("/users/create", {"users": [{"clientUserId": "n-1", "email": "n1@example.com"}]})
    assert (status["eventType"], status["eventStatus"], status["numRequested"]) == ("CREATE", "COMPLETE", 1)
    [user] = users(quiet_hq, clientUserId="n-1")
    assert user["status"] == "Registered" and user["email"] == "n1@example.com"
    assert re.fullmatch(r"[0-9a-f]{32}", user["inviteCode"]) and "idHash" not in user


def test_create_with_managed_apple_id_of_the_org_associates_at_once(quiet_hq):
    quiet_hq.run_event("/users/create", {"users": [{"clientUserId": "m-1", "managedAppleId": "m1@example.org"}]})
    [user] = users(quiet_hq, clientUserId="m-1")
    assert user["status"] == "Associated" and user["idHash"] and "inviteCode" not in user


def test_create_with_foreign_managed_apple_id_fails_9635(quiet_hq):
    status = quiet_hq.run_event("/users/create", {"users": [{"clientUserId": "m-2", "managedAppleId": "x@other.org"}]})
    assert status["failures"][0]["errorNumber"] == 9635
    assert users(quiet_hq, clientUserId="m-2") == []


def test_duplicate_active_user_fails_async_9716(quiet_hq):
    status = quiet_hq.run_event("/users/create", {"users": [{"clientUserId": "u-1"}, {"clientUserId": "n-2"}]})
    assert (status["eventStatus"], status["numCompleted"], status["numRequested"]) == ("FAILED", 1, 2)
    assert status["failures"] == [
        {
            "errorNumber": 9716,
            "errorMessage": status["failures"][0]["errorMessage"],
            "errorInfo": {"clientUserIds": ["u-1"]},
        }
    ]


@pytest.mark.parametrize(
    ("body", "error_number"),
    [
        ({}, 9720),
        ({"users": []}, 9720),
        ({"users": [{"clientUserId": "a"}, {"clientUserId": "a"}]}, 9715),
        ({"users": [{"clientUserId": "a", "email": "not-an-email"}]}, 9717),
        ({"users": [{"email": "a@example.org"}]}, 9602),
        ({"users": [{"clientUserId": "u%d" % number} for number in range(101)]}, 9714),
    ],
)
def test_create_sync_validation(quiet_hq, body, error_number):
    assert_error(quiet_hq.post("/users/create", body), 400, error_number)


def test_update_changes_email(quiet_hq):
    status = quiet_hq.run_event("/users/update", {"users": [{"clientUserId": "u-2", "email": "new@example.org"}]})
    assert (status["eventType"], status["eventStatus"]) == ("UPDATE", "COMPLETE")
    assert users(quiet_hq, clientUserId="u-2")[0]["email"] == "new@example.org"


def test_update_unknown_user_fails_9609(quiet_hq):
    status = quiet_hq.run_event("/users/update", {"users": [{"clientUserId": "ghost", "email": "g@example.org"}]})
    assert status["failures"][0]["errorNumber"] == 9609


def test_retire_releases_revocable_licenses_and_keeps_books(quiet_hq):
    status = quiet_hq.run_event("/users/retire", {"users": [{"clientUserId": "u-1"}]})
    assert (status["eventType"], status["eventStatus"]) == ("RETIRE", "COMPLETE")
    [user] = users(quiet_hq, clientUserId="u-1")
    assert user["status"] == "Retired" and user["idHash"]
    rows = quiet_hq.ok("GET", "/assignments", clientUserId="u-1", includeUserState="true")["assignments"]
    assert [(row["adamId"], row["userStatus"]) for row in rows] == [("2000000001", "Retired")]
    assert quiet_hq.ok("GET", "/assets", adamId="1000000001")["assets"][0]["assignedCount"] == 1
    assert quiet_hq.ok("GET", "/assignments", clientUserId="u-1", excludeInactiveUsers="true")["assignments"] == []


def test_retire_unknown_user_fails_9609(quiet_hq):
    assert (
        quiet_hq.run_event("/users/retire", {"users": [{"clientUserId": "ghost"}]})["failures"][0]["errorNumber"]
        == 9609
    )


def test_recreate_after_retire_is_a_new_record(quiet_hq):
    quiet_hq.run_event("/users/retire", {"users": [{"clientUserId": "u-2"}]})
    quiet_hq.run_event("/users/create", {"users": [{"clientUserId": "u-2", "email": "li@example.org"}]})
    records = users(quiet_hq, clientUserId="u-2")
    assert sorted(record["status"] for record in records) == ["Registered", "Retired"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["u-1", "u-2", "u-old"]),
        ({"activeOnly": "true"}, ["u-1", "u-2"]),
        ({"retiredOnly": "true"}, ["u-old"]),
        ({"clientUserId": "u-2"}, ["u-2"]),
    ],
)
def test_user_filters(hq, params, expected):
    assert [user["clientUserId"] for user in users(hq, **params)] == expected


def test_accept_invitation_associates_and_notifies(subscribed, quiet_sim, receiver):
    invite_code = users(subscribed, clientUserId="u-2")[0]["inviteCode"]
    quiet_sim.accept_invitation("business-hq", "u-2")
    [user] = users(subscribed, clientUserId="u-2")
    assert user["status"] == "Associated" and user["idHash"]
    assert quiet_sim.wait_notifications()
    [notification] = receiver.payloads("USER_ASSOCIATED")
    [associated] = notification["notification"]["associatedUsers"]
    assert (associated["clientUserId"], associated["inviteCode"]) == ("u-2", invite_code)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"adamId": "2000000001"}, [("2000000001", "u-1")]),
        ({"serialNumber": "C02XK0AAJG5H"}, [("1000000001", "C02XK0AAJG5H")]),
        ({"clientUserId": "u-1", "adamId": "1000000001"}, [("1000000001", "u-1")]),
        ({"pricingParam": "PLUS"}, []),
    ],
)
def test_assignment_filters(hq, params, expected):
    rows = hq.ok("GET", "/assignments", **params)["assignments"]
    assert [(row["adamId"], row.get("clientUserId") or row.get("serialNumber")) for row in rows] == expected


def test_include_user_state_adds_status_and_id_hash(hq):
    rows = hq.ok("GET", "/assignments", clientUserId="u-1", includeUserState="true")["assignments"]
    assert all(row["userStatus"] == "Associated" and row["idHash"] for row in rows)
    assert "userStatus" not in hq.ok("GET", "/assignments", clientUserId="u-1")["assignments"][0]


def test_invitation_link_from_service_config_accepts_the_invitation(hq):
    template = hq.ok("GET", "/service/config")["urls"]["invitationEmail"]
    invite_code = users(hq, clientUserId="u-2")[0]["inviteCode"]
    assert requests.get(template.replace("%25inviteCode%25", invite_code), timeout=5).json() == {"accepted": True}
    assert users(hq, clientUserId="u-2")[0]["status"] == "Associated"
