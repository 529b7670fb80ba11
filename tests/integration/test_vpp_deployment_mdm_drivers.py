# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mdm.vpp.vpp_deployment with MicroMDM and NanoHUB (issue 16): real plays against the Apple simulator and the MDM
stand-in, the devices' answers reaching the store through the real ``vpp_events`` source.

MicroMDM takes one device per command and finds enrollments by serial number; NanoHUB serves NanoMDM's enqueue
under ``/api/v1/nanomdm/`` and KMFDDM's declarations under ``/api/v1/ddm/``.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.integration.deployment_helpers import PAGES, apple_holders, deploy, write_calls
from tests.integration.mdm_helpers import (
    IPAD,
    IPHONE,
    MAC,
    apple_associates,
    apple_disassociates,
    enqueued,
    first_time,
    info_task,
    members_of,
    started_stacks,
)

COMMANDS = "/v1/commands/"
HUB_ENQUEUE = "/api/v1/nanomdm/enqueue/"
DDM = "/api/v1/ddm/"


@pytest.fixture
def stacks(simulator_factory, tmp_path, collections_path):
    yield from started_stacks(simulator_factory, tmp_path, collections_path)


def queued(mdm, enrollment_ids, timeout=5.0):
    """Wait until MicroMDM's queue worker stored the commands it answered 201 for (§3.3: asynchronous)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(mdm.queue_state(each) for each in enrollment_ids):
            return
        time.sleep(0.02)
    raise AssertionError("MicroMDM did not queue the commands of %s" % enrollment_ids)


def test_micromdm_one_command_per_device_enrollments_found_by_serial(stacks):
    stack = stacks(flavor="micromdm")
    unknown = "UNKNOWNSER01"
    members = [
        {"serial": IPHONE["serial"]},
        {"serial": IPAD["serial"]},
        {"serial": MAC["serial"], "platform": "macos"},
        {"serial": unknown},
    ]
    run = stack.play([deploy("deploy", "pages-micro", "device", members, allow_partial=True)])
    result = run.result("deploy")

    [lookup] = stack.requests("POST", "/v1/devices")  # one request for every serial without an enrollment
    assert sorted(json.loads(lookup["body"])["filter_serial"]) == sorted(m["serial"] for m in members)
    commands = enqueued(stack.requests("PUT", COMMANDS), COMMANDS)
    assert sorted(ids for ids, _c in commands) == sorted([[d["enrollment_id"]] for d in (IPHONE, IPAD, MAC)])
    for ids, command in commands:
        assert command["Command"]["iTunesStoreID"] == int(PAGES)
        assert command["Command"].get("InstallAsManaged", False) is (ids == [MAC["enrollment_id"]])
    assert first_time(apple_associates(stack.sim)) < first_time(stack.requests("PUT", COMMANDS))
    [failed] = result["failed_members"]
    assert (
        failed["member_id"] == unknown
        and "MicroMDM knows no enrolled device with this serial" in failed["error_message"]
    )

    queued(stack.mdm, [d["enrollment_id"] for d in (IPHONE, IPAD, MAC)])
    stack.connect()
    stack.events.answers(3)
    stack.mdm.clear_request_log()
    stack.sim.clear_request_log()
    run = stack.play(
        [deploy("rerun", "pages-micro", "device", members, allow_partial=True), info_task("info", "pages-micro")]
    )
    assert run.result("rerun")["changed"] is False and write_calls(stack.sim) == []
    # the enrollments found are kept: only the unknown serial is looked up again, and no command goes
    [lookup] = stack.requests("POST", "/v1/devices")
    assert json.loads(lookup["body"])["filter_serial"] == [unknown]
    assert stack.mdm.request_counts() == {"POST /v1/devices": 1}
    states = members_of(run, "info")
    assert {serial: states[serial]["enrollment_id"] for serial in (IPHONE["serial"], IPAD["serial"])} == {
        IPHONE["serial"]: IPHONE["enrollment_id"],
        IPAD["serial"]: IPAD["enrollment_id"],
    }
    assert {states[d["serial"]]["install_state"] for d in (IPHONE, IPAD, MAC)} == {"installed"}


def test_nanohub_commands_through_its_nanomdm_mount(stacks):
    stack = stacks(flavor="nanohub", hmac=True)
    run = stack.play([deploy("deploy", "pages-hub", "device", [IPHONE, IPAD])])
    [(ids, command)] = enqueued(stack.requests("PUT", HUB_ENQUEUE), HUB_ENQUEUE)
    assert sorted(ids) == sorted([IPHONE["enrollment_id"], IPAD["enrollment_id"]])
    assert command["Command"]["RequestType"] == "InstallApplication"
    assert run.result("deploy")["mdm"]["service"] == "NanoHUB"
    stack.connect([IPHONE["enrollment_id"], IPAD["enrollment_id"]])
    assert {e["install_state"] for e in stack.events.answers(2)} == {"installed"}
    run = stack.play([info_task("info", "pages-hub")])
    assert {m["install_state"] for m in members_of(run, "info").values()} == {"installed"}


def test_nanohub_declaration_installs_and_withdrawal_removes(stacks):
    stack = stacks(flavor="nanohub", hmac=True)
    sim, mdm = stack.sim, stack.mdm
    members = [IPHONE, IPAD]  # iOS 17.4 and 18.1: app.managed needs 17.2
    run = stack.play([deploy("deploy", "pages-ddm", "device", members, install_via="declaration")])
    counts = mdm.request_counts()
    assert first_time(apple_associates(sim)) < first_time(stack.requests("PUT", DDM))
    assert counts["PUT /api/v1/ddm/declarations"] == 3 and counts["PUT /api/v1/ddm/set-declarations/{id}"] == 3
    assert counts["PUT /api/v1/ddm/enrollment-sets/{id}"] == 2 and counts["POST /api/v1/ddm/notify"] == 1
    [notify] = stack.requests("POST", DDM + "notify")
    assert sorted(notify["query"]["id"]) == sorted(d["enrollment_id"] for d in members)
    declaration = json.loads(stack.requests("PUT", DDM + "declarations")[0]["body"])
    assert declaration["Type"] == "com.apple.configuration.app.managed"
    assert declaration["Payload"]["AppStoreID"] == PAGES
    assert run.result("deploy")["mdm"]["declaration"] == "mdm.vpp.app.%s.device" % PAGES

    # the devices fetch the declarations; their status reports reach vpp_events
    stack.connect([d["enrollment_id"] for d in members])
    # uninstall: the enrollments leave the set, the devices report the app gone, then the licenses come back
    mdm.clear_request_log()
    run = stack.play(
        [
            info_task("info", "pages-ddm"),
            deploy("remove", "pages-ddm-gone", "device", members, action="uninstall", install_via="declaration"),
        ]
    )
    assert {m["install_state"] for m in members_of(run, "info").values()} == {"installed"}
    assert mdm.request_counts().get("DELETE /api/v1/ddm/enrollment-sets/{id}") == 2
    assert apple_disassociates(sim) == [] and apple_holders(sim, PAGES) >= {("device", d["serial"]) for d in members}
    stack.connect([d["enrollment_id"] for d in members])
    # the install deployment's members saw the app go too: its next run licenses and declares again, and the
    # devices' new reports (the same state as before, in a later report) are recorded
    run = stack.play(
        [
            deploy("reclaim", "pages-ddm-gone", "device", members, action="uninstall", install_via="declaration"),
            deploy("again", "pages-ddm", "device", members, install_via="declaration"),
        ]
    )
    assert sorted(run.result("reclaim")["reclaimed"]) == sorted(d["serial"] for d in members)
    disassociated = {serial for entry in apple_disassociates(sim) for serial in entry["body"]["serialNumbers"]}
    assert disassociated == {d["serial"] for d in members}
    assert sorted(run.result("again")["mdm"]["sent"]) == sorted(d["serial"] for d in members)
    stack.connect([d["enrollment_id"] for d in members])
    run = stack.play([info_task("info", "pages-ddm")])
    assert {m["install_state"] for m in members_of(run, "info").values()} == {"installed"}
