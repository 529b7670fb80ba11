# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""licensing.py: the license-type table, member parsing and the deployment plan (pure functions)."""

from __future__ import annotations

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.deployment_views import invitation_url, plan_summary, plan_writes
from ansible_collections.mdm.vpp.plugins.module_utils.errors import ConfigurationError
from ansible_collections.mdm.vpp.plugins.module_utils.licensing import (
    batch_count,
    check_purpose,
    check_unchanged,
    creation_succeeded,
    license_type_for,
    parse_members,
    plan_deployment,
    short_of_licenses,
)

LIMITS = {"maxClientUserIds": 2, "maxSerialNumbers": 2, "maxUsers": 2}
APP = {"available_count": 10, "unlimited": False, "revocable": True, "product_type": "App"}


def options(action="install", license_type="device", collection_type="device", allow_partial=False,
            reclaim_removed=False):  # fmt: skip
    return {"action": action, "license_type": license_type, "collection_type": collection_type,
            "allow_partial": allow_partial, "reclaim_removed": reclaim_removed}  # fmt: skip


def devices(*serials):
    return parse_members("device", list(serials))


def users(*ids):
    return parse_members("user", list(ids))


def ids(entries):
    return [entry["member_id"] for entry in entries]


# --- the license table ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("device_assignable", "collection", "expected"),
    [(True, "user", "user"), (False, "user", "user"), (True, "device", "device"), (False, "device", "user")],
)
def test_license_table_of_the_architecture(device_assignable, collection, expected):
    assert license_type_for(collection, device_assignable, "App") == expected


def test_books_go_to_users_only():
    assert license_type_for("user", False, "Book") == "user"
    with pytest.raises(ConfigurationError, match="books can only be deployed to user collections"):
        license_type_for("device", False, "Book")


def test_available_purpose_is_refused():
    check_purpose("required")
    with pytest.raises(ConfigurationError, match="available installs are not supported; use required"):
        check_purpose("available")


def test_an_existing_deployment_keeps_its_action_application_and_collection_type():
    existing = {"name": "d", "action": "install", "application": "pages", "collection_type": "user"}
    check_unchanged(existing, {"action": "install", "application": "pages", "collection_type": "user"})
    with pytest.raises(ConfigurationError, match="create a separate deployment with action uninstall"):
        check_unchanged(existing, {"action": "uninstall", "application": "pages", "collection_type": "user"})
    with pytest.raises(ConfigurationError, match="application never changes"):
        check_unchanged(existing, {"action": "install", "application": "keynote", "collection_type": "user"})
    with pytest.raises(ConfigurationError, match="collection type never changes"):
        check_unchanged(existing, {"action": "install", "application": "pages", "collection_type": "device"})


# --- members ----------------------------------------------------------------------------------------------------


def test_members_from_the_list_strings_and_dicts():
    members = parse_members("device", ["SN1", {"serial": "SN2", "user": "u-2"}])
    assert [(m["member_id"], m["device_user"]) for m in members] == [("SN1", None), ("SN2", "u-2")]
    members = parse_members("user", ["u-1", {"client_user_id": "u-2", "email": "b@example.org"}])
    assert [(m["member_id"], m["email"]) for m in members] == [("u-1", None), ("u-2", "b@example.org")]


def test_members_file_one_per_line_with_comments_and_blanks():
    text = "# fleet\nSN1\n\n  SN2  \n# end\n"
    assert [m["member_id"] for m in parse_members("device", members_text=text)] == ["SN1", "SN2"]


def test_members_file_csv_with_header():
    text = "client_user_id,email,managed_apple_id\nu-1,a@example.org,\nu-2,,b@example.org\n"
    members = parse_members("user", members_text=text)
    assert [(m["member_id"], m["email"], m["managed_apple_id"]) for m in members] == [
        ("u-1", "a@example.org", None), ("u-2", None, "b@example.org"),
    ]  # fmt: skip
    devices_csv = parse_members("device", members_text="serial,user\nSN1,u-1\nSN2\n")
    assert [(m["member_id"], m["device_user"]) for m in devices_csv] == [("SN1", "u-1"), ("SN2", None)]


def test_list_and_file_add_up_and_duplicates_across_them_are_refused():
    with pytest.raises(ConfigurationError, match=r"members_file line 1: duplicate serial number 'SN1' \(first at "
                                                 r"members\[0\]\)"):  # fmt: skip
        parse_members("device", ["SN1"], "SN1\n")


@pytest.mark.parametrize(
    ("collection", "members", "text", "problem"),
    [
        ("device", ["bad serial"], None, "'bad serial' is not a serial number"),
        ("device", [""], None, "is not a serial number"),
        ("device", [{"serial": "SN1", "owner": "x"}], None, "unknown key(s) owner"),
        ("user", [{"client_user_id": "u-1", "email": "not-an-email"}], None, "email 'not-an-email' is not an email"),
        ("user", ["u 1"], None, "'u 1' is not a client user id"),
        ("user", None, "u-1,a@example.org\n", "has several fields but the file has no header line"),
        ("user", None, "client_user_id,email\nu-1,a@x.org,extra\n", "3 fields, the header names 2"),
        (
            "user",
            [{"client_user_id": "u-1", "email": "A@x.org"}, {"client_user_id": "u-2", "email": "a@x.org"}],
            None,
            "duplicate email 'a@x.org'",
        ),
        ("user", ["u-1", "u-1"], None, "duplicate client user id 'u-1'"),
    ],
)
def test_invalid_members_are_refused_with_where_and_why(collection, members, text, problem):
    with pytest.raises(ConfigurationError) as caught:
        parse_members(collection, members, text)
    assert problem in str(caught.value)
    assert "nothing was changed" in str(caught.value)


def test_many_problems_are_counted_and_the_first_ones_shown():
    with pytest.raises(ConfigurationError, match="has 15 invalid member") as caught:
        parse_members("device", ["bad %d" % index for index in range(15)])
    assert "and 5 more" in str(caught.value)
    assert len(caught.value.details["problems"]) == 15


def test_one_user_may_have_several_devices():
    members = parse_members("device", [{"serial": "SN1", "user": "u-1"}, {"serial": "SN2", "user": "u-1"}])
    assert len(members) == 2


# --- the plan ---------------------------------------------------------------------------------------------------


def test_install_plan_licenses_only_members_without_a_license():
    plan = plan_deployment(devices("SN1", "SN2", "SN3"), {}, {("device", "SN1")}, {}, APP, options(), LIMITS)
    assert ids(plan["already"]) == ["SN1"] and ids(plan["to_license"]) == ["SN2", "SN3"]
    assert (plan["needed"], plan["available"], plan["short"]) == (2, 10, 0)
    assert plan["batches"] == {"associate": 1, "disassociate": 0, "create_users": 0}
    assert plan["to_license"][0] == {"member_id": "SN2", "license_type": "device", "target_id": "SN2"}


def test_members_awaiting_an_event_are_not_planned_again():
    stored = {"SN1": {"member_id": "SN1", "state": "pending", "event_id": "ev-1"},
              "SN2": {"member_id": "SN2", "state": "pending", "event_id": None}}  # fmt: skip
    plan = plan_deployment(devices("SN1", "SN2"), stored, set(), {}, APP, options(), LIMITS)
    assert ids(plan["awaiting"]) == ["SN1"] and ids(plan["to_license"]) == ["SN2"]


def test_short_of_licenses_is_refused_unless_partial():
    app = dict(APP, available_count=2)
    plan = plan_deployment(devices("SN1", "SN2", "SN3"), {}, set(), {}, app, options(), LIMITS)
    assert (plan["needed"], plan["short"]) == (3, 1) and short_of_licenses(plan, allow_partial=False)
    assert ids(plan["to_license"]) == ["SN1", "SN2", "SN3"]  # the plan shows what was asked for

    partial = plan_deployment(devices("SN1", "SN2", "SN3"), {}, set(), {}, app, options(allow_partial=True), LIMITS)
    assert not short_of_licenses(partial, allow_partial=True)
    assert ids(partial["to_license"]) == ["SN1", "SN2"]
    [failed] = partial["failed"]
    assert failed["member_id"] == "SN3" and failed["error_number"] == 9709
    assert "3 needed, 2 available" in failed["error_message"]


def test_unlimited_apps_never_run_short():
    app = dict(APP, unlimited=True, available_count=0)
    plan = plan_deployment(devices("SN1", "SN2"), {}, set(), {}, app, options(), LIMITS)
    assert plan["available"] is None and plan["short"] == 0 and len(plan["to_license"]) == 2


def test_device_collection_with_user_licenses_serves_devices_through_their_user():
    members = parse_members("device", [{"serial": "SN1", "user": "u-1"}, {"serial": "SN2", "user": "u-1"}, "SN3"])
    plan = plan_deployment(members, {}, set(), {"u-1": "Associated"}, APP, options(license_type="user"), LIMITS)
    assert [(e["member_id"], e["target_id"]) for e in plan["to_license"]] == [("SN1", "u-1"), ("SN2", "u-1")]
    assert plan["needed"] == 1  # one user license for both devices
    [failed] = plan["failed"]
    assert failed["member_id"] == "SN3" and "has no user" in failed["error_message"]
    assert plan["to_register"] == []


def test_users_unknown_or_retired_are_registered_first_in_batches():
    members = parse_members("user", [{"client_user_id": "new", "email": "n@example.org"}, "old", "known", "other"])
    known = {"old": "Retired", "known": "Registered"}
    plan = plan_deployment(members, {}, set(), known, APP, options(license_type="user", collection_type="user"),
                           LIMITS)  # fmt: skip
    assert plan["to_register"] == [{"client_user_id": "new", "email": "n@example.org"},
                                   {"client_user_id": "old"}, {"client_user_id": "other"}]  # fmt: skip
    assert plan["batches"] == {"associate": 2, "disassociate": 0, "create_users": 2}


def test_partial_plan_registers_only_users_who_get_a_license():
    app = dict(APP, available_count=1)
    members = users("a", "b")
    plan = plan_deployment(members, {}, set(), {}, app, options("install", "user", "user", allow_partial=True),
                           LIMITS)  # fmt: skip
    assert plan["to_register"] == [{"client_user_id": "a"}]


def test_removed_install_members_keep_their_license_unless_reclaimed():
    stored = {sn: {"member_id": sn, "state": "licensed", "license_type": "device"} for sn in ("SN1", "SN2", "SN9")}
    holders = {("device", "SN1"), ("device", "SN2")}  # SN9 holds nothing any more
    plan = plan_deployment(devices("SN2"), stored, holders, {}, APP, options(), LIMITS)
    assert ids(plan["untargeted"]) == ["SN1"] and ids(plan["forgotten"]) == ["SN9"] and plan["to_reclaim"] == []
    assert plan_writes(plan)

    reclaim = plan_deployment(devices("SN2"), stored, holders, {}, APP, options(reclaim_removed=True), LIMITS)
    assert ids(reclaim["to_reclaim"]) == ["SN1"] and reclaim["untargeted"] == []
    assert reclaim["batches"]["disassociate"] == 1

    # the next identical run: SN1 was reclaimed and keeps that record, SN9 was forgotten; nothing to do
    stored["SN1"]["state"] = "reclaimed"
    del stored["SN9"]
    again = plan_deployment(devices("SN2"), stored, holders - {("device", "SN1")}, {}, APP,
                            options(reclaim_removed=True), LIMITS)  # fmt: skip
    assert not plan_writes(again) and again["forgotten"] == [] and again["to_reclaim"] == []


def test_a_removed_member_another_install_deployment_still_serves_keeps_the_license():
    stored = {sn: {"member_id": sn, "state": "licensed", "license_type": "device"} for sn in ("SN1", "SN2", "SN3")}
    holders = {("device", "SN1"), ("device", "SN2"), ("device", "SN3")}
    reclaiming = dict(options(reclaim_removed=True), served_elsewhere={("device", "SN1")})
    plan = plan_deployment(devices("SN3"), stored, holders, {}, APP, reclaiming, LIMITS)
    assert ids(plan["to_reclaim"]) == ["SN2"] and ids(plan["untargeted"]) == ["SN1"]


def test_a_removed_device_whose_user_still_serves_another_device_keeps_the_license():
    stored = {"SN1": {"member_id": "SN1", "state": "licensed", "license_type": "user", "device_user": "u-1"}}
    members = parse_members("device", [{"serial": "SN2", "user": "u-1"}])
    plan = plan_deployment(members, stored, {("user", "u-1")}, {"u-1": "Associated"}, APP,
                           options(license_type="user", reclaim_removed=True), LIMITS)  # fmt: skip
    assert plan["to_reclaim"] == [] and ids(plan["untargeted"]) == ["SN1"]


def test_an_unchanged_deployment_plans_no_write():
    stored = {"SN1": {"member_id": "SN1", "state": "licensed"}, "SN2": {"member_id": "SN2", "state": "untargeted"}}
    holders = {("device", "SN1"), ("device", "SN2")}
    plan = plan_deployment(devices("SN1"), stored, holders, {}, APP, options(), LIMITS)
    assert not plan_writes(plan)
    assert plan_summary(plan)["already"] == 1


def test_uninstall_plan_reclaims_holders_and_refuses_books_before_any_call():
    plan = plan_deployment(devices("SN1", "SN2"), {}, {("device", "SN1")}, {}, APP, options("uninstall"), LIMITS)
    assert ids(plan["to_reclaim"]) == ["SN1"] and ids(plan["already"]) == ["SN2"] and plan["needed"] == 1

    book = {"available_count": 0, "revocable": False, "product_type": "Book"}
    plan = plan_deployment(users("u-1"), {}, {("user", "u-1")}, {}, book, options("uninstall", "user", "user"),
                           LIMITS)  # fmt: skip
    [failed] = plan["failed"]
    assert failed["error_number"] == 9706 and "book" in failed["error_message"] and plan["to_reclaim"] == []


def test_removed_uninstall_members_are_simply_forgotten():
    stored = {"SN1": {"member_id": "SN1", "state": "reclaimed"}}
    plan = plan_deployment([], stored, {("device", "SN1")}, {}, APP, options("uninstall"), LIMITS)
    assert ids(plan["forgotten"]) == ["SN1"] and plan["to_reclaim"] == []


# --- small helpers ----------------------------------------------------------------------------------------------


def test_batch_count():
    assert [batch_count(n, 1000) for n in (0, 1, 1000, 1001, 10000)] == [0, 1, 1, 2, 10]


def test_invitation_url_replaces_the_encoded_placeholder():
    template = "https://buy.example/associate?inviteCode=%25inviteCode%25&mt=8"
    assert invitation_url(template, "abc") == "https://buy.example/associate?inviteCode=abc&mt=8"
    assert invitation_url(template, None) is None


def test_an_existing_user_counts_as_registered():
    assert creation_succeeded({"succeeded": False, "error_number": 9716})
    assert not creation_succeeded({"succeeded": False, "error_number": 9635})
