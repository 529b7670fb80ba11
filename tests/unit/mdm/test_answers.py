# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the MDM's webhook says (NanoMDM and MicroMDM shapes of mdm-servers-api.md §2.7, §3.7) and what it does to
a member's install state."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import plistlib

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils import mdm_answers as answers
from ansible_collections.mdm.vpp.plugins.module_utils.errors import MDMError

UDID = "00008030-001A2B3C4D5E802E"


def raw(device):
    return base64.b64encode(plistlib.dumps(device)).decode()


def nanomdm_event(device, status="Acknowledged", command_uuid="c-1", ids=None):
    event = {"udid": UDID, "status": status, "raw_payload": raw(device), "ids": ids or {"id": UDID, "type": "Device"}}
    if command_uuid:
        event["command_uuid"] = command_uuid
    return json.dumps({"topic": "mdm.Connect", "event_id": "a1b2c3d4e5f60718", "acknowledge_event": event}).encode()


def micromdm_event(device, status="Acknowledged", command_uuid="c-1"):
    event = {"udid": UDID, "status": status, "command_uuid": command_uuid, "raw_payload": raw(device)}
    return json.dumps({"topic": "mdm.Connect", "event_id": "8d3c-uuid", "acknowledge_event": event}, indent=2).encode()


LICENSE_NOT_FOUND = {
    "UDID": UDID,
    "CommandUUID": "c-1",
    "Status": "Error",
    "ErrorChain": [{"ErrorCode": 9610, "ErrorDomain": "ASDErrorDomain", "LocalizedDescription": "License not found"}],
    "RejectionReason": "Other",
    "State": "Failed",
}


# --- signature and size ---


def test_a_good_signature_is_accepted_and_a_bad_or_missing_one_is_not():
    body = b'{"topic":"mdm.Connect"}'
    good = base64.b64encode(hmac.new(b"key", body, hashlib.sha256).digest()).decode()
    assert answers.verify_signature(b"key", body, good)
    assert not answers.verify_signature(b"other", body, good)
    assert not answers.verify_signature(b"key", body + b" ", good)
    assert not answers.verify_signature(b"key", body, None)
    assert not answers.verify_signature(b"key", body, "")
    assert not answers.verify_signature(b"key", body, "not base64 \u00e9")


def test_a_body_over_the_limit_is_refused():
    body = b" " * (answers.MAX_WEBHOOK_BYTES + 1)
    with pytest.raises(MDMError, match="larger than"):
        answers.parse_webhook(body)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"event_id": "x"}',
        b'{"topic": "mdm.Connect"}',
        json.dumps({"topic": "mdm.Connect", "acknowledge_event": {"raw_payload": "%%%"}}).encode(),
        json.dumps({"topic": "mdm.Connect", "acknowledge_event": {"raw_payload": "bm90IGEgcGxpc3Q="}}).encode(),
        json.dumps({"topic": "mdm.Connect", "acknowledge_event": {"raw_payload": raw({"ErrorChain": "x"})}}).encode(),
        json.dumps({"topic": "mdm.Connect", "acknowledge_event": {"status": 3}}).encode(),
    ],
)
def test_a_malformed_body_is_an_error_never_data(body):
    with pytest.raises(MDMError, match="malformed"):
        answers.parse_webhook(body)


# --- parsing ---


def test_a_nanomdm_error_answer_is_read_whole():
    answer = answers.parse_webhook(nanomdm_event(LICENSE_NOT_FOUND, status="Error"))
    assert answer == {
        "topic": "mdm.Connect",
        "event_id": "a1b2c3d4e5f60718",
        "enrollment_id": UDID,
        "udid": UDID,
        "command_uuid": "c-1",
        "status": "Error",
        "error_chain": [{"code": 9610, "domain": "ASDErrorDomain", "description": "License not found"}],
        "rejection_reason": "Other",
        "state": "Failed",
        "identifier": None,
        "status_report": None,
    }


def test_the_nanomdm_ids_name_a_user_channel():
    body = nanomdm_event({"UDID": UDID, "UserID": "U-1"}, ids={"id": UDID + ":U-1", "type": "User"})
    assert answers.parse_webhook(body)["enrollment_id"] == UDID + ":U-1"


def test_a_micromdm_user_channel_is_udid_and_user_id_from_the_raw_payload():
    body = micromdm_event({"UDID": UDID, "UserID": "U-1", "Status": "Acknowledged", "Identifier": "com.x"})
    answer = answers.parse_webhook(body)
    assert answer["enrollment_id"] == UDID + ":U-1"
    assert answer["identifier"] == "com.x"


def test_a_micromdm_device_answer_is_its_udid():
    assert answers.parse_webhook(micromdm_event({"UDID": UDID}))["enrollment_id"] == UDID


def test_idle_has_no_command():
    answer = answers.parse_webhook(nanomdm_event({"UDID": UDID, "Status": "Idle"}, status="Idle", command_uuid=None))
    assert answer["command_uuid"] is None
    assert answers.install_state_after("sent", answer) is None


def test_a_status_report_check_in_carries_its_json():
    report = {"StatusItems": {"app": {"managed": {"list": []}}}, "Errors": []}
    device = {
        "MessageType": "DeclarativeManagement",
        "Endpoint": "status",
        "UDID": UDID,
        "Data": json.dumps(report).encode(),
    }
    event = {"udid": UDID, "raw_payload": raw(device), "ids": {"id": UDID, "type": "Device"}}
    body = json.dumps({"topic": "mdm.DeclarativeManagement", "checkin_event": event}).encode()
    assert answers.parse_webhook(body)["status_report"] == report


def test_a_status_report_that_is_not_json_is_refused():
    device = {"MessageType": "DeclarativeManagement", "Endpoint": "status", "Data": b"{nope"}
    body = json.dumps({"topic": "mdm.DeclarativeManagement", "checkin_event": {"raw_payload": raw(device)}}).encode()
    with pytest.raises(MDMError, match="the status report is not JSON"):
        answers.parse_webhook(body)


def test_long_device_texts_are_bounded():
    device = dict(LICENSE_NOT_FOUND, ErrorChain=[{"ErrorCode": 1, "USEnglishDescription": "x" * 5000}] * 50)
    answer = answers.parse_webhook(nanomdm_event(device, status="Error"))
    assert len(answer["error_chain"]) == answers.MAX_ERRORS
    assert len(answer["error_chain"][0]["description"]) == answers.MAX_TEXT
    assert len(answers.error_text(answer)) <= answers.MAX_TEXT


# --- install states ---


def answer_of(status, description=None):
    chain = [{"code": None, "domain": "MDMErrorDomain", "description": description}] if description else []
    return {"status": status, "command_uuid": "c-1", "error_chain": chain}


@pytest.mark.parametrize(
    ("current", "status", "after"),
    [
        ("sent", "Acknowledged", "installed"),
        ("sending", "Acknowledged", "installed"),
        ("not_now", "Acknowledged", "installed"),
        ("sent", "NotNow", "not_now"),
        ("sent", "Error", "failed"),
        ("sent", "CommandFormatError", "failed"),
        ("installed", "NotNow", None),
        ("removal_sent", "Acknowledged", "removed"),
        ("removal_sending", "Acknowledged", "removed"),
        ("removal_sent", "Error", "removal_failed"),
        ("removal_sent", "NotNow", "removal_sent"),
        ("removed", "NotNow", None),
        (None, "Acknowledged", None),
        ("sent", "Whatever", None),
    ],
)
def test_install_state_after_an_answer(current, status, after):
    assert answers.install_state_after(current, answer_of(status)) == after


def test_removing_an_app_that_is_not_managed_leaves_nothing_of_ours():
    answer = answer_of("Error", "The app \u201ccom.example.notes\u201d is not managed.")
    assert answers.install_state_after("removal_sent", answer) == "removed"
    assert answers.install_state_after("sent", answer) == "failed"


def test_the_install_states_are_the_vocabularys():
    from ansible_collections.mdm.vpp.plugins.module_utils import vocabulary

    assert answers.INSTALL_STATES is vocabulary.INSTALL_STATES


def test_error_text_names_code_domain_and_description():
    answer = answers.parse_webhook(nanomdm_event(LICENSE_NOT_FOUND, status="Error"))
    assert answers.error_text(answer) == (
        "Error 9610 (ASDErrorDomain): License not found (RejectionReason Other, State Failed)"
    )
    assert answers.error_text({"status": "CommandFormatError"}).startswith("CommandFormatError: ")
    assert answers.error_text({"status": "Error", "rejection_reason": "AppAlreadyInstalled"}) == (
        "Error (RejectionReason AppAlreadyInstalled)"
    )


# --- DDM status ---


def test_ddm_app_states_map_managed_failed_and_removed():
    report = {
        "StatusItems": {
            "app": {
                "managed": {
                    "list": [
                        {"identifier": "com.a", "declaration-identifier": "mdm.vpp.app.1.device", "state": "managed"},
                        {
                            "identifier": "com.b",
                            "declaration-identifier": "mdm.vpp.app.2.device",
                            "state": "failed",
                            "reasons": [{"code": "Error.LicenseNotFound", "description": "A license ..."}],
                        },
                        {"identifier": "com.c", "_removed": True},
                        {"identifier": "com.d", "state": "downloading"},
                    ]
                }
            }
        }
    }
    states = answers.ddm_app_states(report)
    assert [(each["identifier"], each["install_state"]) for each in states] == [
        ("com.a", "installed"),
        ("com.b", "failed"),
        ("com.c", "removed"),
        ("com.d", None),
    ]
    assert states[1]["reasons"] == [{"code": "Error.LicenseNotFound", "description": "A license ..."}]
    assert states[1]["declaration_identifier"] == "mdm.vpp.app.2.device"
    assert states[2]["removed"] is True


def test_a_report_without_apps_has_none_and_a_malformed_list_is_refused():
    assert answers.ddm_app_states({"StatusItems": {"management": {}}}) == []
    assert answers.ddm_app_states({}) == []
    with pytest.raises(MDMError):
        answers.ddm_app_states({"StatusItems": {"app": {"managed": {"list": {"x": 1}}}}})
    with pytest.raises(MDMError):
        answers.ddm_app_states({"StatusItems": {"app": {"managed": {"list": [{"state": "managed"}]}}}})
