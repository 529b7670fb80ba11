# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""install_plan: which members the MDM step sends an install or a removal to, and which licenses come back."""

from __future__ import annotations

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.install_plan import (
    command_groups,
    mac_only,
    plan_installs,
    plan_removals,
    request_count,
)
from ansible_collections.mdm.vpp.plugins.module_utils.members import parse_members


def row(member_id, state="licensed", install_state=None, enrollment_id=None, command_uuid=None):
    return {
        "member_id": member_id,
        "state": state,
        "install_state": install_state,
        "enrollment_id": enrollment_id,
        "command_uuid": command_uuid,
    }


def member(member_id, enrollment_id=None, platform=None):
    return {"member_id": member_id, "enrollment_id": enrollment_id, "platform": platform}


def test_only_licensed_members_not_sent_yet_or_failed_get_the_install():
    rows = [
        row("A", enrollment_id="UDID-A"),
        row("B", state="pending", enrollment_id="UDID-B"),
        row("C", install_state="sent", enrollment_id="UDID-C"),
        row("D", install_state="installed", enrollment_id="UDID-D"),
        row("E", install_state="not_now", enrollment_id="UDID-E"),
        row("F", install_state="failed", enrollment_id="UDID-F"),
        row("G", state="failed", enrollment_id="UDID-G"),
    ]
    members = [member(m) for m in "ABCDEFG"]
    plan = plan_installs(rows, members)
    assert [entry["member_id"] for entry in plan["to_send"]] == ["A", "F"]
    assert plan["resend"] == {} and plan["unenrolled"] == []


def test_members_no_longer_in_the_collection_get_nothing():
    plan = plan_installs([row("A", enrollment_id="UDID-A"), row("Z", enrollment_id="UDID-Z")], [member("A")])
    assert [entry["member_id"] for entry in plan["to_send"]] == ["A"]


def test_the_task_enrollment_wins_and_a_member_without_one_is_reported():
    rows = [row("A", enrollment_id="OLD"), row("B")]
    plan = plan_installs(rows, [member("A", "NEW"), member("B")])
    assert plan["to_send"] == [{"member_id": "A", "enrollment_id": "NEW", "mac": False}]
    assert plan["unenrolled"] == [{"member_id": "B", "enrollment_id": None, "mac": False}]


def test_an_enrollment_the_mdm_does_not_know_is_not_sent_again_until_it_changes():
    refused = {"install_state": "failed", "install_error": "unknown enrollment (NanoMDM has no push data for it)"}
    device_error = {"install_state": "failed", "install_error": "Error 9610 (ASDErrorDomain): License not found"}
    rows = [
        dict(row("A", enrollment_id="UDID-A"), **refused),
        dict(row("B", enrollment_id="UDID-B"), **refused),
        dict(row("C", enrollment_id="UDID-C"), **device_error),
    ]
    # B's enrollment was UDID-B when the MDM refused it; the task now gives another one (stored before the MDM step)
    before = {"A": rows[0], "B": dict(rows[1], enrollment_id="UDID-B-OLD"), "C": rows[2]}
    plan = plan_installs(rows, [member("A"), member("B"), member("C")], before=before)
    assert plan["unknown"] == [
        {"member_id": "A", "enrollment_id": "UDID-A", "mac": False, "error": refused["install_error"]}
    ]
    assert [entry["member_id"] for entry in plan["to_send"]] == ["B", "C"]


def test_a_stopped_run_is_resent_with_its_command_uuid():
    rows = [
        row("A", install_state="sending", enrollment_id="UDID-A", command_uuid="u-1"),
        row("B", enrollment_id="U-B"),
    ]
    plan = plan_installs(rows, [member("A"), member("B")])
    assert list(plan["resend"]) == ["u-1"]
    assert [entry["member_id"] for entry in plan["to_send"]] == ["B"]


@pytest.mark.parametrize(
    ("platform", "enrollment_id", "app_for_mac", "mac"),
    [
        ("macos", "UDID", False, True),
        ("ios", "UDID:USER", True, False),  # the platform given wins
        (None, "UDID:USER", False, True),  # a macOS user channel
        (None, "UDID", True, True),  # an app for Macs only
        (None, "UDID", False, False),
    ],
)
def test_macs_are_told_by_platform_user_channel_or_app(platform, enrollment_id, app_for_mac, mac):
    plan = plan_installs([row("A")], [member("A", enrollment_id, platform)], app_for_mac)
    assert plan["to_send"][0]["mac"] is mac


def test_mac_only_apps():
    assert mac_only(["mac"]) is True
    assert mac_only(["iphone", "mac"]) is False
    assert mac_only([]) is False
    assert mac_only(None) is False


def test_removals_wait_for_the_device_unless_reclaim_when_sent():
    entries = [{"member_id": m, "license_type": "device", "target_id": m} for m in "ABCDEF"]
    rows = {
        "A": row("A", state="pending", enrollment_id="UA"),
        "B": row("B", state="pending", install_state="removal_sent", enrollment_id="UB"),
        "C": row("C", state="pending", install_state="removed", enrollment_id="UC"),
        "D": row("D", state="pending", install_state="removal_failed", enrollment_id="UD"),
        "E": row("E", state="pending"),
        "F": row("F", state="pending", install_state="removal_sending", enrollment_id="UF", command_uuid="u-9"),
    }
    split = plan_removals(entries, rows, "removed")
    assert [entry["member_id"] for entry in split["reclaim"]] == ["C"]
    assert [entry["member_id"] for entry in split["awaiting"]] == ["B"]
    assert [entry["member_id"] for entry in split["to_send"]] == ["A", "D"]
    assert [entry["member_id"] for entry in split["unenrolled"]] == ["E"]
    assert [entry["member_id"] for entry in split["resend"]["u-9"]] == ["F"]
    sent = plan_removals(entries, rows, "sent")
    assert [entry["member_id"] for entry in sent["reclaim"]] == ["B", "C"]
    assert sent["awaiting"] == []


def test_commands_are_cut_per_shape_and_batch():
    entries = [{"member_id": str(n), "enrollment_id": "U%d" % n, "mac": n % 10 == 0} for n in range(250)]
    groups = command_groups(entries, 100)
    assert [(mac, len(chunk)) for mac, chunk in groups] == [(False, 100), (False, 100), (False, 25), (True, 25)]
    assert request_count(entries, 100) == 4
    assert request_count(entries, 1) == 250


def test_members_carry_enrollment_and_platform_from_a_file_header():
    text = (
        "Serial Number,UDID,Operating System\nC02XK0AAJG5H,00008030-001A2B3C4D5E802E,iPadOS\nDMPZ1,ABC:USER,Mac OS X\n"
    )
    members = parse_members("device", members_text=text)
    assert [(m["member_id"], m["enrollment_id"], m["platform"]) for m in members] == [
        ("C02XK0AAJG5H", "00008030-001A2B3C4D5E802E", "ios"),
        ("DMPZ1", "ABC:USER", "macos"),
    ]


@pytest.mark.parametrize("bad", ["two,ids", "a/b", "with space", ""])
def test_an_enrollment_id_that_cannot_go_into_a_url_is_refused(bad):
    items = (
        [{"serial": "C02XK0AAJG5H", "enrollment_id": bad}] if bad else [{"serial": "C02XK0AAJG5H", "platform": "dos"}]
    )
    with pytest.raises(Exception) as raised:
        parse_members("device", members=items)
    assert "invalid member" in str(raised.value)
