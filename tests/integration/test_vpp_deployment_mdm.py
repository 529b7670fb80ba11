# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mdm.vpp.vpp_deployment installing through NanoMDM (issue 16): real plays against the Apple simulator and the
MDM stand-in, the devices' answers reaching the store through the real ``vpp_events`` source.

The install goes only after Apple confirmed the license, to exactly the licensed members, in batches of 100; the
command is Apple's InstallApplication; the devices' answers become install states; a rerun sends nothing; an
uninstall removes the app before the license comes back, per ``reclaim_when``.
"""

from __future__ import annotations

import pytest

from tests.integration.deployment_helpers import (
    KEYNOTE,
    PAGES,
    apple_holders,
    deploy,
    deployment_scenario,
    write_calls,
)
from tests.integration.mdm_helpers import (
    IPAD,
    IPHONE,
    MAC,
    NOT_ENROLLED,
    PAGES_BUNDLE,
    apple_associates,
    apple_disassociates,
    batches_needed,
    device_scenario,
    enqueued,
    first_time,
    info_task,
    members_of,
    started_stacks,
)

ENQUEUE = "/v1/enqueue/"


@pytest.fixture
def stacks(simulator_factory, tmp_path, collections_path):
    yield from started_stacks(simulator_factory, tmp_path, collections_path)


def member(device, **extra):
    return dict(device, **extra)


def test_install_goes_after_the_license_to_the_licensed_members_and_follows_their_answers(stacks):
    stack = stacks(hmac=True)
    sim, mdm = stack.sim, stack.mdm
    no_enrollment = {"serial": "NOENROLL0001"}
    members = [IPHONE, IPAD, MAC, NOT_ENROLLED, no_enrollment]
    run = stack.play([deploy("deploy", "pages-ipads", "device", members, allow_partial=True)])
    result = run.result("deploy")

    # Apple first: the associate of the members without a license went before any command
    enqueues = stack.requests("PUT", ENQUEUE)
    assert apple_associates(sim) and max(e["time"] for e in apple_associates(sim)) < first_time(enqueues)
    # one request per command shape: the Mac's carries InstallAsManaged, the others' not
    by_ids = {tuple(ids): command for ids, command in enqueued(enqueues, ENQUEUE)}
    assert set(by_ids) == {
        (IPHONE["enrollment_id"], IPAD["enrollment_id"], NOT_ENROLLED["enrollment_id"]),
        (MAC["enrollment_id"],),
    }
    for ids, command in by_ids.items():
        assert command["Command"] == dict(
            {
                "RequestType": "InstallApplication",
                "iTunesStoreID": int(PAGES),
                "Options": {"PurchaseMethod": 1},
                "ManagementFlags": 1,
            },
            **({"InstallAsManaged": True} if ids == (MAC["enrollment_id"],) else {}),
        )
        store_id = command["Command"]["iTunesStoreID"]
        assert isinstance(store_id, int) and not isinstance(store_id, bool)  # an integer, as Apple's key wants
    assert result["changed"] is True and sorted(result["mdm"]["sent"]) == sorted(
        [IPHONE["serial"], IPAD["serial"], MAC["serial"]]
    )
    assert result["mdm"]["counts"]["sent"] == 3 and result["mdm"]["left_out"]["sent"] == 0  # the first 100 named
    failed = {m["member_id"]: m["error_message"] for m in result["failed_members"]}
    assert set(failed) == {NOT_ENROLLED["serial"], "NOENROLL0001"}
    assert "unknown enrollment" in failed[NOT_ENROLLED["serial"]]
    assert "no enrollment id" in failed["NOENROLL0001"] and "enrollment_id" in failed["NOENROLL0001"]

    # the devices answer: an error (with its ErrorChain), NotNow, Acknowledged
    mdm.set_answers(
        IPAD["enrollment_id"],
        [{"kind": "error", "code": 9610, "domain": "ASDErrorDomain", "text": "License not found"}],
    )
    mdm.set_answers(MAC["enrollment_id"], ["not_now"])
    stack.connect([IPHONE["enrollment_id"], IPAD["enrollment_id"], MAC["enrollment_id"]])
    assert all(delivery["signature"] for delivery in mdm.webhook_deliveries())  # HMAC-signed, and accepted
    # what the store shows, then the next run: the install goes again to the device that answered with an error
    mdm.clear_request_log()
    sim.clear_request_log()
    run = stack.play(
        [info_task("info", "pages-ipads"), deploy("again", "pages-ipads", "device", members, allow_partial=True)]
    )
    states = members_of(run, "info")
    assert states[IPHONE["serial"]]["install_state"] == "installed"
    assert states[MAC["serial"]]["install_state"] == "not_now"
    assert states[IPAD["serial"]]["install_state"] == "failed"
    assert "Error 9610 (ASDErrorDomain): License not found" in states[IPAD["serial"]]["install_error"]
    assert states[NOT_ENROLLED["serial"]]["install_state"] == "failed"
    assert {e["member_id"]: e["install_state"] for e in stack.events.answers(3)} == {
        IPHONE["serial"]: "installed",
        IPAD["serial"]: "failed",
        MAC["serial"]: "not_now",
    }

    assert [ids for ids, _command in enqueued(stack.requests("PUT", ENQUEUE), ENQUEUE)] == [[IPAD["enrollment_id"]]]
    assert run.result("again")["changed"] is True and write_calls(sim) == []
    stack.connect([IPAD["enrollment_id"], MAC["enrollment_id"]])

    # now everything is answered: a rerun is quiet, and still names the members it could not reach
    mdm.clear_request_log()
    run = stack.play(
        [deploy("rerun", "pages-ipads", "device", members, allow_partial=True), info_task("info", "pages-ipads")]
    )
    rerun = run.result("rerun")
    assert rerun["changed"] is False
    assert mdm.request_counts() == {} and write_calls(sim) == []
    refused = {m["member_id"]: m["error_message"] for m in rerun["failed_members"]}
    assert set(refused) == {NOT_ENROLLED["serial"], "NOENROLL0001"}
    assert "not sent again until the member's enrollment_id changes" in refused[NOT_ENROLLED["serial"]]
    states = members_of(run, "info")
    assert {
        serial: states[serial]["install_state"] for serial in (IPHONE["serial"], IPAD["serial"], MAC["serial"])
    } == dict.fromkeys((IPHONE["serial"], IPAD["serial"], MAC["serial"]), "installed")
    assert rerun["mdm"]["install_states"]["installed"] == 3

    # the unknown device enrolls: NanoMDM's TokenUpdate reaches vpp_events, and the next run sends it the install
    mdm.authenticate(NOT_ENROLLED["enrollment_id"])
    mdm.token_update(NOT_ENROLLED["enrollment_id"])
    assert [(e["member_id"], e["install_state"]) for e in stack.events.answers(6)[5:]] == [
        (NOT_ENROLLED["serial"], None)
    ]
    run = stack.play([deploy("enrolled", "pages-ipads", "device", members, allow_partial=True)])
    assert run.result("enrolled")["mdm"]["sent"] == [NOT_ENROLLED["serial"]]
    assert [ids for ids, _c in enqueued(stack.requests("PUT", ENQUEUE), ENQUEUE)] == [[NOT_ENROLLED["enrollment_id"]]]


def test_members_whose_license_is_not_confirmed_or_short_get_no_command(stacks):
    stack = stacks(applications=("pages", "keynote"))
    sim, mdm = stack.sim, stack.mdm
    sim.configure(hold_events=True)  # Apple accepts the associate, and does not finish it yet
    run = stack.play([deploy("deploy", "pages-ipads", "device", [IPHONE, IPAD, MAC], wait=False)])
    # only the iPhone, which held a license already, is sent the install
    assert [ids for ids, _c in enqueued(stack.requests("PUT", ENQUEUE), ENQUEUE)] == [[IPHONE["enrollment_id"]]]
    assert run.result("deploy")["pending"] == sorted([IPAD["serial"], MAC["serial"]])
    sim.complete_events()
    mdm.clear_request_log()
    run = stack.play([deploy("deploy", "pages-ipads", "device", [IPHONE, IPAD, MAC], wait=False)])
    assert sorted(ids for ids, _c in enqueued(stack.requests("PUT", ENQUEUE), ENQUEUE)) == sorted(
        [[IPAD["enrollment_id"]], [MAC["enrollment_id"]]]
    )

    # Keynote has 3 licenses for 4 members: the one short of a license gets no command
    sim.configure(hold_events=False)
    mdm.clear_request_log()
    members = [IPHONE, IPAD, MAC, NOT_ENROLLED]
    run = stack.play([deploy("keynote", "keynote-ipads", "device", members, application="keynote", allow_partial=True)])
    result = run.result("keynote")
    short = [m["member_id"] for m in result["failed_members"] if "license" in m["error_message"]]
    assert len(short) == 1 and len(result["licensed"]) == 3
    sent = [
        enrollment
        for ids, command in enqueued(stack.requests("PUT", ENQUEUE), ENQUEUE)
        for enrollment in ids
        if command["Command"]["iTunesStoreID"] == int(KEYNOTE)
    ]
    by_serial = {m["serial"]: m["enrollment_id"] for m in members}
    assert sorted(sent) == sorted(by_serial[serial] for serial in result["licensed"])
    assert by_serial[short[0]] not in sent


def test_more_than_100_members_go_in_batches_of_100_and_a_rerun_sends_nothing(stacks):
    scenario, members = device_scenario(150)
    apple = deployment_scenario()
    next(a for a in apple["locations"][0]["assets"] if a["adamId"] == PAGES)["total"] = 200
    stack = stacks(mdm_scenario=scenario, apple_scenario=apple)
    run = stack.play([deploy("deploy", "pages-fleet", "device", members)])
    deployed = run.result("deploy")
    # the result counts every member and names the first 100 (RESULT_MEMBERS), saying how many it leaves out
    assert deployed["counts"]["licensed"] == 150 and deployed["left_out"]["licensed"] == 50
    assert len(deployed["licensed"]) == 100 and set(deployed["licensed"]) <= {m["serial"] for m in members}
    enqueues = enqueued(stack.requests("PUT", ENQUEUE), ENQUEUE)
    assert stack.mdm.request_counts() == {"PUT /v1/enqueue": batches_needed(150)} and len(enqueues) == 2
    assert all(len(ids) <= 100 for ids, _c in enqueues)
    assert sorted(i for ids, _c in enqueues for i in ids) == sorted(m["enrollment_id"] for m in members)
    assert len({command["CommandUUID"] for _ids, command in enqueues}) == 2

    stack.mdm.clear_request_log()
    stack.sim.clear_request_log()
    run = stack.play([deploy("rerun", "pages-fleet", "device", members)])
    assert run.result("rerun")["changed"] is False
    assert stack.mdm.request_counts() == {} and write_calls(stack.sim) == []


def test_an_uninstall_removes_the_app_before_the_license_comes_back(stacks):
    stack = stacks()
    sim, mdm = stack.sim, stack.mdm
    stack.play([deploy("install", "pages-all", "device", [IPHONE, IPAD, MAC])])
    stack.connect()
    mdm.clear_request_log()
    sim.clear_request_log()

    # reclaim_when: removed (default) for the iPad and the Mac, sent for the iPhone
    run = stack.play(
        [
            deploy("remove", "pages-gone", "device", [IPAD, MAC], action="uninstall"),
            deploy("remove now", "pages-gone-now", "device", [IPHONE], action="uninstall", reclaim_when="sent"),
            deploy("not yet", "pages-gone", "device", [IPAD, MAC], action="uninstall"),  # before the devices answer
        ]
    )
    removals = enqueued(stack.requests("PUT", ENQUEUE), ENQUEUE)
    assert all(
        command["Command"] == {"RequestType": "RemoveApplication", "Identifier": PAGES_BUNDLE}
        for _ids, command in removals
    )
    assert sorted(i for ids, _c in removals for i in ids) == sorted(d["enrollment_id"] for d in (IPHONE, IPAD, MAC))
    [disassociate] = apple_disassociates(sim)  # the iPhone's, once NanoMDM queued its removal
    assert disassociate["body"]["serialNumbers"] == [IPHONE["serial"]]
    [iphone_removal] = [e for e in stack.requests("PUT", ENQUEUE) if IPHONE["enrollment_id"] in e["path"]]
    assert iphone_removal["time"] < disassociate["time"]
    assert apple_holders(sim, PAGES) >= {("device", IPAD["serial"]), ("device", MAC["serial"])}
    assert ("device", IPHONE["serial"]) not in apple_holders(sim, PAGES)
    assert run.result("remove")["mdm"]["awaiting_removal"] == sorted([IPAD["serial"], MAC["serial"]])
    assert run.result("remove")["mdm"]["counts"]["awaiting_removal"] == 2
    assert run.result("remove now")["reclaimed"] == [IPHONE["serial"]]
    # a rerun before the devices confirmed sends nothing more and takes nothing back
    assert run.result("not yet")["changed"] is False and run.result("not yet")["reclaimed"] == []
    assert run.result("not yet")["mdm"]["awaiting_removal"] == sorted([IPAD["serial"], MAC["serial"]])

    # the devices confirm: recorded through vpp_events; the next run takes the licenses back, and only then
    stack.connect([IPAD["enrollment_id"], MAC["enrollment_id"]])
    assert {(e["member_id"], e["install_state"]) for e in stack.events.answers(5)[3:]} == {
        (IPAD["serial"], "removed"),
        (MAC["serial"], "removed"),
    }
    mdm.clear_request_log()
    run = stack.play([deploy("reclaim", "pages-gone", "device", [IPAD, MAC], action="uninstall")])
    assert sorted(run.result("reclaim")["reclaimed"]) == sorted([IPAD["serial"], MAC["serial"]])
    assert not apple_holders(sim, PAGES) & {("device", d["serial"]) for d in (IPHONE, IPAD, MAC)}
    assert mdm.request_counts() == {}
    sim.clear_request_log()
    run = stack.play([deploy("again", "pages-gone", "device", [IPAD, MAC], action="uninstall")])
    assert run.result("again")["changed"] is False and write_calls(sim) == [] and mdm.request_counts() == {}
