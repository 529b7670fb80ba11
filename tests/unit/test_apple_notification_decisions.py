# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure decisions of Apple's notifications (issue 17): the Bearer, the token it names, a notification's outcomes,
and when a deployment waiting on an event reads Apple's status."""

from __future__ import annotations

import pytest
import yaml

from ansible_collections.mdm.vpp.extensions.eda.plugins.event_source import vpp_events
from ansible_collections.mdm.vpp.plugins.module_utils import apple_notifications as apple
from ansible_collections.mdm.vpp.plugins.module_utils.change_events import DEFAULT_LOW_THRESHOLD
from ansible_collections.mdm.vpp.plugins.module_utils.events import (
    NOTIFICATION_GRACE,
    first_status_read,
    notifications_configured,
)
from ansible_collections.mdm.vpp.plugins.module_utils.license_outcomes import event_status, outcome_updates


@pytest.mark.parametrize(
    ("header", "secret"),
    [("Bearer abc", "abc"), ("bearer  abc ", "abc"), ("Basic abc", None), ("Bearer ", None), ("", None), (None, None)],
)
def test_the_bearer_secret_of_an_authorization_header(header, secret):
    assert apple.bearer_of(header) == secret


def test_the_token_is_the_candidate_whose_secret_matches_and_none_matches_an_empty_one():
    candidates = [("a", "secret-a"), ("b", "secret-b"), ("c", None)]
    assert apple.matching_token(candidates, "secret-b") == "b"
    assert apple.matching_token(candidates, "secret-") is None
    assert apple.matching_token(candidates, None) is None
    assert apple.matching_token([], "secret-a") is None


def test_a_notification_parses_into_bounded_outcomes_in_the_shape_a_status_read_gives():
    body = (
        b'{"notificationId": "n1", "notificationType": "ASSET_MANAGEMENT", "uId": 9000000000000001, "notification": '
        b'{"eventId": "e1", "type": "ASSOCIATE", "result": "FAILURE", "error": {"errorNumber": 9709, '
        b'"errorMessage": "short"}, "assignments": [{"adamId": 1000000001, "serialNumber": "S1"}]}}'
    )
    parsed = apple.parse_notification(body)
    assert (parsed["uid"], parsed["event_id"], parsed["type"]) == ("9000000000000001", "e1", "ASSET_MANAGEMENT")
    assert apple.asset_outcomes(parsed) == [
        {"adam_id": "1000000001", "pricing_param": "STDQ", "serial_number": "S1", "succeeded": False,
         "error_number": 9709, "error_message": "short"}
    ]  # fmt: skip


def test_outcomes_give_the_members_their_state_and_the_assignments_of_the_successes():
    members = [
        {"member_id": "S1", "license_type": "device", "device_user": None},
        {"member_id": "ipad-of-u1", "license_type": "user", "device_user": "u1"},
    ]
    outcomes = [
        {"adam_id": "1", "pricing_param": "STDQ", "serial_number": "S1", "succeeded": True, "error_number": None,
         "error_message": None},
        {"adam_id": "1", "pricing_param": "STDQ", "client_user_id": "u1", "succeeded": False, "error_number": 9709,
         "error_message": "short"},
    ]  # fmt: skip
    rows, assignments = outcome_updates("ASSOCIATE", outcomes, members, "device", ("1", "STDQ"))
    assert rows == [
        {"member_id": "S1", "state": "licensed", "error_number": None, "error_message": None},
        {"member_id": "ipad-of-u1", "state": "failed", "error_number": 9709, "error_message": "short"},
    ]
    assert assignments == [{"adam_id": "1", "pricing_param": "STDQ", "target_kind": "device", "target_id": "S1"}]
    assert outcome_updates("DISASSOCIATE", outcomes[:1], members, "device", ("1", "STDQ"))[0][0]["state"] == (
        "reclaimed"
    )


def test_an_event_is_finished_when_no_member_waits_and_failed_when_one_failed():
    assert event_status([{"state": "licensed"}, {"state": "pending"}]) == "PENDING"
    assert event_status([{"state": "licensed"}, {"state": "licensed"}]) == "COMPLETE"
    assert event_status([{"state": "licensed"}, {"state": "failed"}]) == "FAILED"


@pytest.mark.parametrize(
    ("settings", "configured"),
    [
        (None, False),
        ({"url": None, "secret": None, "types": None}, False),
        ({"url": "https://x/apple", "secret": "s", "types": None}, True),  # never narrowed: every type
        ({"url": "https://x/apple", "secret": "s", "types": ["ASSET_COUNT", "ASSET_MANAGEMENT"]}, True),
        ({"url": "https://x/apple", "secret": "s", "types": ["ASSET_COUNT"]}, False),
        ({"url": "https://x/apple", "secret": "s", "types": []}, False),
    ],
)
def test_a_deployment_relies_on_notifications_only_when_asset_management_is_sent(settings, configured):
    assert notifications_configured(settings, True) is configured
    assert notifications_configured(settings, False) is False  # another receiver takes them: none reach the store


def test_status_is_read_after_apples_five_minutes_for_notified_license_events_only():
    assert first_status_read("ASSOCIATE", 0, True, 1.0, 600) == NOTIFICATION_GRACE == 300
    assert first_status_read("DISASSOCIATE", 200, True, 1.0, 600) == 100
    assert first_status_read("ASSOCIATE", 900, True, 1.0, 600) == 0  # submitted by a run long ago
    assert first_status_read("CREATE", 0, True, 1.0, 600) == 1.0  # user registration: no notification finishes it
    assert first_status_read("ASSOCIATE", 0, False, 1.0, 600) == 1.0  # as without notifications
    assert first_status_read("ASSOCIATE", 0, False, 1.0, 0) == 0  # a run that looks once reads once


def test_the_event_sources_documentation_is_yaml_and_documents_the_apple_options():
    documentation = yaml.safe_load(vpp_events.DOCUMENTATION)
    assert {"apple_path", "low_threshold", "certfile", "keyfile"} <= set(documentation["options"])
    assert documentation["options"]["low_threshold"]["default"] == DEFAULT_LOW_THRESHOLD
    assert documentation["options"]["apple_path"]["default"] == "/apple/notifications"
    assert yaml.safe_load(vpp_events.EXAMPLES)
    assert all(isinstance(line, str) for line in documentation["description"])  # no ': ' made a line a mapping
