# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mdm.vpp.vpp_deployment_info: real ansible-playbook runs reading deployments made by vpp_deployment."""

from __future__ import annotations

from tests.integration.conftest import Ansible
from tests.integration.deployment_helpers import deploy, deployment_scenario, played, setup_tasks


def info(task_name, check_mode=None, **options):
    task = {"name": task_name, "mdm.vpp.vpp_deployment_info": options}
    if check_mode is not None:
        task["check_mode"] = check_mode
    return task


def test_lists_deployments_with_counts_and_members_on_request(tmp_path, collections_path, simulator_factory):
    sim = simulator_factory(deployment_scenario())
    runner = Ansible(tmp_path, collections_path, sim.url)
    keynote = ["SN-1", "SN-2", "SN-3", "SN-4"]  # 3 licenses: one member fails
    run = played(runner, [
        *setup_tasks(sim, ["pages", "keynote"]),
        deploy("pages", "pages-staff", "user", ["u-1", "u-2"]),
        deploy("keynote", "keynote-ipads", "device", keynote, application="keynote", allow_partial=True),
        info("all"),
        info("one", name="keynote-ipads"),
        info("by application", application="pages", members=True),
        info("by token", token="hq"),
        info("other token", token="east"),
        info("in check mode", check_mode=True),
        info("page 1", name="keynote-ipads", members_limit=3),
        info("page 2", name="keynote-ipads", members_limit=3, members_offset=3),
        info("failed only", name="keynote-ipads", member_state="failed"),
    ])  # fmt: skip
    listed = run.result("all")
    assert listed["changed"] is False
    assert [d["name"] for d in listed["deployments"]] == ["keynote-ipads", "pages-staff"]
    keynote_row, pages_row = listed["deployments"]
    assert (keynote_row["application"], keynote_row["token"], keynote_row["license_type"]) == (
        "keynote",
        "hq",
        "device",
    )
    assert (keynote_row["action"], keynote_row["purpose"]) == ("install", "required")
    assert keynote_row["collection"] == {"name": "keynote-ipads collection", "type": "device"}
    assert keynote_row["states"] == {"pending": 0, "licensed": 3, "failed": 1, "untargeted": 0, "reclaimed": 0}
    assert keynote_row["members"] == 4 and keynote_row["pending_events"] == 0
    assert "member_details" not in keynote_row
    assert pages_row["license_type"] == "user" and pages_row["states"]["licensed"] == 2

    [one] = run.result("one")["deployments"]
    details = {member["id"]: member for member in one["member_details"]}
    assert sorted(details) == keynote
    assert details["SN-4"]["state"] == "failed" and details["SN-4"]["error_number"] == 9709
    assert details["SN-1"]["state"] == "licensed" and details["SN-1"]["license_type"] == "device"
    assert details["SN-1"]["event_id"] and details["SN-1"]["updated"]

    # a large deployment's members come page by page, sorted by id, and by state
    [first] = run.result("page 1")["deployments"]
    [second] = run.result("page 2")["deployments"]
    assert [m["id"] for m in first["member_details"]] == keynote[:3] and first["members_next_offset"] == 3
    assert [m["id"] for m in second["member_details"]] == keynote[3:] and second["members_next_offset"] is None
    assert first["states"] == keynote_row["states"]  # counts stay whole
    [failed] = run.result("failed only")["deployments"]
    assert [(m["id"], m["error_number"]) for m in failed["member_details"]] == [("SN-4", 9709)]

    [by_app] = run.result("by application")["deployments"]
    assert by_app["name"] == "pages-staff" and {m["id"] for m in by_app["member_details"]} == {"u-1", "u-2"}
    assert len(run.result("by token")["deployments"]) == 2
    assert run.result("other token")["deployments"] == []
    assert run.result("in check mode")["deployments"] == listed["deployments"]
