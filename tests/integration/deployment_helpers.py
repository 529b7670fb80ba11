# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers shared by the vpp_deployment and vpp_deployment_info integration tests."""

from __future__ import annotations

import os

from tests.integration.conftest import Ansible
from tests.integration.token_helpers import opened_store
from tests.simulator.testing import small_scenario

HQ = "business-hq"
TOKEN = "hq"
# small.yml's hq apps, plus Numbers, an app Apple does not license to devices (added by deployment_scenario)
PAGES, KEYNOTE, NUMBERS, BOOK, FREE_APP = "1000000001", "1000000002", "1000000003", "2000000001", "1000000009"
APPLICATIONS = {"pages": PAGES, "keynote": KEYNOTE, "numbers": NUMBERS, "book": BOOK, "free": FREE_APP}
API = "/mdm/v2"


def deployment_scenario(**limits):
    """The small scenario with a fast event worker, a high rate limit and Numbers (user licenses only, 5)."""
    scenario = small_scenario(event_delay=0.01)
    scenario["limits"] = dict({"maxRequestPerSecond": 100}, **limits)
    hq = next(location for location in scenario["locations"] if location["key"] == HQ)
    hq["assets"].append({"adamId": NUMBERS, "name": "Numbers", "bundleId": "com.apple.iwork.numbers", "total": 5,
                         "deviceAssignable": False, "platforms": ["iOS", "macOS"]})  # fmt: skip
    return scenario


def deployment_sim(simulator_factory):
    """The simulator of ``deployment_scenario``: what a deployment test file's ``sim`` fixture returns."""
    return simulator_factory(deployment_scenario())


def deployment_runner(tmp_path, collections_path, sim):
    """Plays against ``sim`` with a private store: what a deployment test file's ``runner`` fixture returns."""
    return Ansible(tmp_path, collections_path, sim.url)


def setup_tasks(sim, applications=("pages",)):
    """Register hq, sync it and create the applications named (``pages`` -> application "pages" of Pages)."""
    tasks = [
        {
            "name": "register",
            "mdm.vpp.vpp_token": {"name": TOKEN, "token_file": os.path.join(sim.tokens_dir, HQ + ".vpptoken")},
        },
        {"name": "sync", "mdm.vpp.vpp_sync": {}},
    ]
    for name in applications:
        tasks.append(
            {"name": "app %s" % name, "mdm.vpp.vpp_app": {"token": TOKEN, "adam_id": APPLICATIONS[name], "name": name}}
        )
    return tasks


def deploy(task_name, name, collection_type, members=None, application="pages", check_mode=None,
           ignore_errors=False, collection_name=None, **options):  # fmt: skip
    """A ``mdm.vpp.vpp_deployment`` task (``check_mode`` and ``ignore_errors`` as task keywords)."""
    collection = {"name": collection_name or "%s collection" % name, "type": collection_type}
    if members is not None:
        collection["members"] = members
    if "members_file" in options:
        collection["members_file"] = options.pop("members_file")
    module_options = dict(options, name=name, collection=collection)
    if application is not None:
        module_options["application"] = application
    task = {"name": task_name, "mdm.vpp.vpp_deployment": module_options}
    if check_mode is not None:
        task["check_mode"] = check_mode
    if ignore_errors:
        task["ignore_errors"] = True
    return task


def played(runner, tasks, **options):
    """Run ``tasks`` as one play that must succeed (expected failures carry ignore_errors)."""
    run = runner.play(tasks, **options)
    assert run.rc == 0, run.stdout + run.stderr
    return run


def apple_holders(sim, adam_id):
    """Who holds a license of ``adam_id`` at the simulator: {("device", serial) | ("user", client_user_id)}."""
    return {
        ("user", item["clientUserId"]) if "clientUserId" in item else ("device", item["serialNumber"])
        for item in sim.location_state(HQ)["assignments"]
        if item["adamId"] == adam_id
    }


def apple_counts(sim, adam_id):
    """(assigned, available, total) of an app at the simulator."""
    asset = next(a for a in sim.location_state(HQ)["assets"] if a["adamId"] == adam_id)
    return asset["assignedCount"], asset["availableCount"], asset["totalCount"]


def posts(sim, endpoint):
    """POST requests the simulator received on ``endpoint`` (``/assets/associate``...)."""
    return [entry for entry in sim.request_log(HQ) if entry["method"] == "POST" and entry["path"] == API + endpoint]


def write_calls(sim):
    """Every write the simulator received (any POST under the API)."""
    return [entry for entry in sim.request_log(HQ) if entry["method"] == "POST" and entry["path"].startswith(API)]


def member_states(runner, deployment):
    """``{member_id: state}`` of a deployment in the store."""
    with opened_store(runner) as store:
        if store.get_deployment(deployment) is None:
            return None
        return {row["member_id"]: row["state"] for row in store.list_members(deployment)}


def store_holders(runner, adam_id):
    """Who holds a license of ``adam_id`` according to the store's assignments."""
    with opened_store(runner) as store:
        return {(row["target_kind"], row["target_id"]) for row in store.iter_assignments(TOKEN, adam_id=adam_id)}
