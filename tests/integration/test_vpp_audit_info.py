# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mdm.vpp.vpp_audit_info: real ansible-playbook runs reading the audit trail that syncs and deployments wrote."""

from __future__ import annotations

import pytest

from tests.integration.app_helpers import HQ, KEYNOTE, PAGES, app_scenario, app_task, played, setup_tasks
from tests.integration.conftest import Ansible
from tests.integration.token_helpers import opened_store

SERIAL = "DMPNEW000001"


@pytest.fixture
def sim(simulator_factory):
    return simulator_factory(app_scenario())


@pytest.fixture
def runner(tmp_path, collections_path, sim):
    return Ansible(tmp_path, collections_path, sim.url)


def audit_task(task_name, check_mode=None, ignore_errors=False, **options):
    task = {"name": task_name, "mdm.vpp.vpp_audit_info": options}
    if check_mode is not None:
        task["check_mode"] = check_mode
    if ignore_errors:
        task["ignore_errors"] = True
    return task


def entries(run, task_name):
    result = run.result(task_name)
    assert result["changed"] is False
    return [(e["token"], e["kind"], e["origin"], e["adam_id"], e["target_id"]) for e in result["entries"]]


def test_reads_what_syncs_and_deployments_recorded_newest_first_with_filters(runner, sim):
    played(runner, setup_tasks(sim))  # the first import: each asset's counts, no entry per license
    sim.purchase(HQ, KEYNOTE, 5)
    deploy = {"name": "pages-ipads", "application": "Pages (hq)",
              "collection": {"name": "iPads", "type": "device", "members": [SERIAL]}}  # fmt: skip
    run = played(runner, [
        audit_task("before"),
        {"name": "sync", "mdm.vpp.vpp_sync": {}, "register": "sync"},
        app_task("pages", token="hq", adam_id=PAGES, pricing_param="STDQ"),
        {"name": "deploy", "mdm.vpp.vpp_deployment": deploy},
        audit_task("all"),
        audit_task("check", check_mode=True),
        audit_task("east", tokens=["east"]),
        audit_task("keynote", adam_id=KEYNOTE),
        audit_task("member", member=SERIAL),
        audit_task("kinds", kinds=["assignment_added", "assignment_removed"]),
        audit_task("run", run_id="{{ sync.run_id }}"),
        audit_task("recent", since="1h"),
        audit_task("future", since="2999-01-01"),
        audit_task("one", limit=1),
    ])  # fmt: skip

    imported = entries(run, "before")
    assert {(token, kind, origin) for token, kind, origin, _adam_id, _target in imported} == {
        ("hq", "asset_count_changed", "apple"), ("east", "asset_count_changed", "apple"),
    }  # fmt: skip
    assert len(imported) == 7 and run.result("before")["truncated"] is False  # hq's 6 assets, east's Pages
    ours = ("hq", "assignment_added", "local", PAGES, SERIAL)
    recounted = ("hq", "asset_count_changed", "local", PAGES, None)  # the deployment reads Pages' counts again
    bought = ("hq", "asset_count_changed", "apple", KEYNOTE, None)
    assert entries(run, "all") == [recounted, ours, bought, *imported]  # newest first
    _recounted, deployed, counted = run.result("all")["entries"][:3]
    assert (deployed["app"], deployed["who"], deployed["summary"]) == (
        "Pages", "mdm.vpp", "license assigned to device %s" % SERIAL,
    )  # fmt: skip
    assert (counted["app"], counted["who"]) == ("Keynote", "Apple (found by a sync)")
    assert counted["summary"] == "licenses total 3 -> 8, available 3 -> 8"
    assert counted["run_id"] == run.result("sync")["run_id"]
    assert run.result("check")["entries"] == run.result("all")["entries"]
    assert entries(run, "east") == [entry for entry in imported if entry[0] == "east"]
    assert entries(run, "keynote") == [bought, ("hq", "asset_count_changed", "apple", KEYNOTE, None)]
    assert entries(run, "member") == [ours]
    assert entries(run, "kinds") == [ours]
    assert entries(run, "run") == [bought]
    assert entries(run, "recent") == entries(run, "all") and run.result("recent")["since"] is not None
    assert entries(run, "future") == []
    assert entries(run, "one") == [recounted] and run.result("one")["truncated"] is True
    assert run.result("all")["truncated"] is False
    with opened_store(runner) as store:  # read only: the trail is as the syncs and the deployment left it
        assert len(list(store.iter_audit())) == 10


def test_bad_filters_fail_clearly_and_change_nothing(runner, sim):
    run = played(runner, [
        *setup_tasks(sim),
        audit_task("unknown token", ignore_errors=True, tokens=["hq", "west"]),
        audit_task("bad since", ignore_errors=True, since="yesterday"),
        audit_task("bad limit", ignore_errors=True, limit=0),
        audit_task("bad kind", ignore_errors=True, kinds=["assignment_lost"]),
    ])  # fmt: skip

    assert run.result("unknown token")["msg"].startswith(
        "token(s) west not registered: there is no audit trail to read for them"
    )
    assert "mdm.vpp.vpp_token_info lists the registered tokens" in run.result("unknown token")["msg"]
    assert run.result("bad since")["msg"].startswith(
        "since 'yesterday' is neither an ISO 8601 date or date/time nor an age"
    )
    assert "24h, 7d" in run.result("bad since")["msg"]
    assert run.result("bad limit")["msg"].startswith("limit must be 1 or more entries, got 0")
    assert "assignment_lost" in run.result("bad kind")["msg"]
    assert all(run.status(name) == "failed" for name in ("unknown token", "bad since", "bad limit", "bad kind"))
