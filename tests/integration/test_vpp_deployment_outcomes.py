# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mdm.vpp.vpp_deployment says what happened (issue 15): failed members fail the task, app counts follow the
licenses given and taken back, serial numbers compare upper-case (also in a store of an earlier version), diffs
name the members, members files take the column names of MDM exports, an empty collection warns."""

from __future__ import annotations

import pytest

from tests.integration.deployment_helpers import (
    PAGES,
    apple_counts,
    apple_holders,
    deploy,
    deployment_runner,
    deployment_sim,
    member_states,
    played,
    setup_tasks,
    store_holders,
    write_calls,
)
from tests.integration.token_helpers import opened_store


@pytest.fixture
def sim(simulator_factory):
    return deployment_sim(simulator_factory)


@pytest.fixture
def runner(tmp_path, collections_path, sim):
    return deployment_runner(tmp_path, collections_path, sim)


def pages_info(task_name):
    return {"name": task_name, "mdm.vpp.vpp_app_info": {"tokens": ["hq"], "adam_id": PAGES}}


def test_app_counts_follow_the_licenses_a_deployment_gives_and_takes_back_without_a_sync(runner, sim):
    macs = deploy("deploy", "pages-macs", "device", ["SN-M1", "SN-M2"])
    run = played(runner, [*setup_tasks(sim), pages_info("before"), macs, pages_info("after")])
    [before], [after] = run.result("before")["apps"], run.result("after")["apps"]
    assert (before["assigned"], before["available"]) == (2, 48)
    assert (after["assigned"], after["available"], after["deployed"]) == (4, 46, 2)
    assert after["assigned"] >= after["deployed"]
    assert apple_counts(sim, PAGES)[:2] == (4, 46)

    run = played(runner, [deploy("back", "pages-macs-back", "device", ["SN-M1"], action="uninstall"),
                          pages_info("reclaimed"), {"name": "sync", "mdm.vpp.vpp_sync": {}},
                          pages_info("synced")])  # fmt: skip
    [reclaimed], [synced] = run.result("reclaimed")["apps"], run.result("synced")["apps"]
    assert (reclaimed["assigned"], reclaimed["available"], reclaimed["deployed"]) == (3, 47, 1)
    # the next sync reads Apple's counts: they agree
    assert (synced["assigned"], synced["available"]) == apple_counts(sim, PAGES)[:2] == (3, 47)


def test_a_member_that_ends_failed_fails_the_task_unless_allow_partial(runner, sim):
    members = [{"serial": "SN-N1", "user": "u-1"}, "SN-N2"]  # Numbers has no device licenses: SN-N2 has no user
    run = played(runner, [*setup_tasks(sim, ["numbers"]),
                          deploy("predict", "numbers-ipads", "device", members, application="numbers",
                                 check_mode=True, ignore_errors=True),
                          deploy("deploy", "numbers-ipads", "device", members, application="numbers",
                                 ignore_errors=True)])  # fmt: skip
    predicted = run.result("predict")
    assert run.status("predict") == "failed"
    assert "1 member(s) would end failed: SN-N2 (device SN-N2 has no user" in predicted["msg"]
    result = run.result("deploy")
    assert run.status("deploy") == "failed" and result["changed"] is True
    assert "deployment 'numbers-ipads': 1 member(s) ended failed: SN-N2 (device SN-N2 has no user" in result["msg"]
    assert result["licensed"] == ["SN-N1"] and [m["member_id"] for m in result["failed_members"]] == ["SN-N2"]
    assert member_states(runner, "numbers-ipads") == {"SN-N1": "licensed", "SN-N2": "failed"}

    sim.clear_request_log()
    run = played(runner, [deploy("partial", "numbers-ipads", "device", members, application="numbers",
                                 allow_partial=True)])  # fmt: skip
    partial = run.result("partial")
    assert partial["changed"] is False and partial["failed_members"][0]["member_id"] == "SN-N2"
    assert any("ended failed: SN-N2" in warning and "allow_partial" in warning for warning in partial["warnings"])
    assert write_calls(sim) == []


def test_serial_numbers_are_one_device_whatever_their_case(runner, sim):
    ipads = ["c02acme00050", "C02XK0AAJG5H"]
    run = played(runner, [*setup_tasks(sim), deploy("deploy", "pages-ipads", "device", ipads),
                          deploy("twice", "pages-twice", "device", ["c02acme00051", "C02ACME00051"],
                                 ignore_errors=True)])  # fmt: skip
    assert run.result("deploy")["licensed"] == ["C02ACME00050"]  # C02XK0AAJG5H held its license already
    assert ("device", "C02ACME00050") in apple_holders(sim, PAGES) & store_holders(runner, PAGES)
    assert member_states(runner, "pages-ipads") == {"C02ACME00050": "licensed", "C02XK0AAJG5H": "licensed"}
    twice = run.result("twice")
    assert run.status("twice") == "failed"
    assert (
        "duplicate serial number 'C02ACME00051' (first at members[0] as 'c02acme00051', spelled otherwise)"
        in (twice["msg"])
    )

    sim.clear_request_log()
    run = played(runner, [deploy("again", "pages-ipads", "device", ["C02ACME00050", "c02xk0aajg5h"])])
    assert run.result("again")["changed"] is False
    assert write_calls(sim) == []


def test_a_store_of_an_earlier_version_with_lower_case_serials_keeps_working_without_churn(runner, sim):
    played(runner, [*setup_tasks(sim), deploy("deploy", "pages-ipads", "device", ["SN-OLD1", "SN-OLD2"])])
    # what an earlier collection wrote from a lower-case members list: lower-case members and assignments,
    # schema version 3 (migration 4 upper-cases them when the store is next opened)
    with opened_store(runner) as store, store.transaction():
        store.db.execute("UPDATE deployment_members SET member_id = LOWER(member_id)")
        store.db.execute("UPDATE assignments SET target_id = LOWER(target_id) WHERE target_id LIKE 'SN-OLD%'")
        store.db.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    sim.clear_request_log()

    run = played(runner, [deploy("again", "pages-ipads", "device", ["sn-old1", "sn-old2"], reclaim_removed=True)])
    again = run.result("again")
    assert again["changed"] is False and again["reclaimed"] == [] and again["licensed"] == []
    assert write_calls(sim) == []  # neither reclaimed nor licensed again because of the spelling
    assert member_states(runner, "pages-ipads") == {"SN-OLD1": "licensed", "SN-OLD2": "licensed"}
    assert {("device", "SN-OLD1"), ("device", "SN-OLD2")} <= store_holders(runner, PAGES)


def test_check_mode_diff_names_the_members_gaining_and_losing_a_license(runner, sim):
    played(runner, [*setup_tasks(sim), deploy("deploy", "pages-ipads", "device", ["SN-D1", "SN-D2"])])
    new = ["SN-D2"] + ["SN-E%02d" % number for number in range(25)]
    run = runner.play([deploy("plan", "pages-ipads", "device", new, reclaim_removed=True)], check=True, diff=True)
    assert run.rc == 0, run.stdout + run.stderr
    diff = run.result("plan")["diff"]
    assert diff["before"]["members"] == 2 and diff["after"]["members"] == 26
    assert diff["before"]["app"] == diff["after"]["app"] == "Pages (1000000001)"
    changes = diff["after"]["member_changes"]
    assert changes["gaining_license"] == {"count": 25, "first": new[1:21]}
    assert changes["losing_license"] == {"count": 1, "first": ["SN-D1"]}
    assert changes["removed"] == {"count": 1, "first": ["SN-D1"]} and changes["added"]["count"] == 25
    assert "SN-D1" in run.stdout and "SN-E19" in run.stdout and "SN-E20" not in run.stdout

    # a membership change without reclaim: the removed member keeps its license, the count stays right
    run = runner.play([deploy("swap", "pages-ipads", "device", ["SN-D2", "SN-D3"])], check=True, diff=True)
    swap = run.result("swap")["diff"]
    assert swap["after"]["members"] == 2 and swap["after"]["states"]["untargeted"] == 1
    assert swap["after"]["member_changes"] == {"gaining_license": {"count": 1, "first": ["SN-D3"]},
                                               "added": {"count": 1, "first": ["SN-D3"]},
                                               "removed": {"count": 1, "first": ["SN-D1"]}}  # fmt: skip


def test_members_files_take_the_column_names_of_mdm_exports(runner, sim, tmp_path):
    devices = tmp_path / "jamf-devices.csv"
    devices.write_text("Serial Number, Username ,Model\nsn-j1,u-1,iPad\nSN-J2,u-2,iPad\n")
    users = tmp_path / "abm-users.csv"
    users.write_text("Managed Apple ID,Email Address,User ID\n"
                     "new-x@example.org,new-x@example.org,new-x\n,,u-1\n")  # fmt: skip
    run = played(runner, [*setup_tasks(sim, ["numbers"]),
                          deploy("devices", "numbers-ipads", "device", application="numbers",
                                 members_file=str(devices)),
                          deploy("users", "numbers-staff", "user", application="numbers",
                                 members_file=str(users))])  # fmt: skip
    assert member_states(runner, "numbers-ipads") == {"SN-J1": "licensed", "SN-J2": "licensed"}
    assert member_states(runner, "numbers-staff") == {"new-x": "licensed", "u-1": "licensed"}
    assert run.result("users")["registered_users"] == ["new-x"]


def test_a_deployment_without_members_warns(runner, sim):
    played(runner, [*setup_tasks(sim), deploy("deploy", "pages-ipads", "device", ["SN-W1"])])
    run = played(runner, [deploy("empty", "pages-ipads", "device", [], check_mode=True, reclaim_removed=True),
                          deploy("fresh", "pages-new", "device", [])])  # fmt: skip
    [warning] = run.result("empty")["warnings"]
    assert "collection 'pages-ipads collection' has no members (members is empty): probably a mistake" in warning
    assert "takes back the license of every former member" in warning
    assert run.result("empty")["plan"]["to_reclaim"][0]["member_id"] == "SN-W1"
    assert "nobody gets a license" in run.result("fresh")["warnings"][0]


def test_the_deploy_role_fails_on_failed_members_unless_told_to_tolerate_them(runner, sim):
    deployment = {"name": "numbers-ipads", "application": "numbers",
                  "collection": {"name": "iPads", "type": "device", "members": [{"serial": "SN-R1", "user": "u-1"},
                                                                                "SN-R2"]}}  # fmt: skip

    def role(name, **role_vars):
        role_vars = dict({"vpp_deploy_deployments": [deployment], "vpp_deploy_sync": False}, **role_vars)
        return {"name": name, "ansible.builtin.include_role": {"name": "mdm.vpp.vpp_deploy"}, "vars": role_vars}

    played(runner, setup_tasks(sim, ["numbers"]))
    tolerated = played(runner, [role("tolerant", vpp_deploy_fail_on_member_failure=False)])
    remember = "Remember the outcome of each deployment for the next roles"
    [kept] = [r["result"] for r in tolerated.results if r["task"].endswith(remember)]
    [outcome] = kept["ansible_facts"]["vpp_deploy_results"]
    assert [member["member_id"] for member in outcome["failed_members"]] == ["SN-R2"]
    assert member_states(runner, "numbers-ipads") == {"SN-R1": "licensed", "SN-R2": "failed"}

    strict = runner.play([role("strict")])
    assert strict.rc != 0
    assert "1 member(s) ended failed: SN-R2 (device SN-R2 has no user" in strict.stdout
