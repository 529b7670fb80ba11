# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers shared by the vpp_app and vpp_app_info integration tests: a scenario, setup tasks, task builders."""

from __future__ import annotations

import os

from tests.integration.token_helpers import opened_store
from tests.simulator.testing import small_scenario

# token name in the store -> location key at the simulator
LOCATIONS = {"hq": "business-hq", "east": "school-east"}
HQ = LOCATIONS["hq"]
PAGES, KEYNOTE, FINAL_CUT, BOOK, FREE_APP = "1000000001", "1000000002", "1000000003", "2000000001", "1000000009"


def app_scenario():
    """The small scenario plus, at hq, Pages in high quality (two "Pages" there) and a macOS-only app."""
    scenario = small_scenario(event_delay=0.01)
    scenario["limits"] = {"maxRequestPerSecond": 100}
    hq = next(location for location in scenario["locations"] if location["key"] == HQ)
    hq["assets"] += [
        {"adamId": PAGES, "pricingParam": "PLUS", "name": "Pages", "bundleId": "com.apple.iwork.pages", "total": 4,
         "platforms": ["iOS", "macOS"]},
        {"adamId": FINAL_CUT, "name": "Final Cut Pro", "bundleId": "com.apple.FinalCut", "total": 10,
         "platforms": ["macOS"]},
    ]  # fmt: skip
    return scenario


def setup_tasks(sim):
    """Register both locations from their token files and sync them: the first tasks of a test's first play."""
    tasks = [
        {
            "name": "register %s" % name,
            "mdm.vpp.vpp_token": {"name": name, "token_file": os.path.join(sim.tokens_dir, key + ".vpptoken")},
        }
        for name, key in LOCATIONS.items()
    ]
    return [*tasks, {"name": "sync", "mdm.vpp.vpp_sync": {}}]


def app_task(task_name, check_mode=None, ignore_errors=False, **options):
    """A ``mdm.vpp.vpp_app`` task (``check_mode`` and ``ignore_errors`` as task keywords)."""
    task = {"name": task_name, "mdm.vpp.vpp_app": options}
    if check_mode is not None:
        task["check_mode"] = check_mode
    if ignore_errors:
        task["ignore_errors"] = True
    return task


def info_task(task_name, check_mode=None, ignore_errors=False, **options):
    """A ``mdm.vpp.vpp_app_info`` task."""
    task = {"name": task_name, "mdm.vpp.vpp_app_info": options}
    if check_mode is not None:
        task["check_mode"] = check_mode
    if ignore_errors:
        task["ignore_errors"] = True
    return task


def played(runner, tasks):
    """Run ``tasks`` as one play that must succeed (expected failures carry ignore_errors)."""
    run = runner.play(tasks)
    assert run.rc == 0, run.stdout + run.stderr
    return run


def stored_applications(runner):
    """Every application in the store: ``{name: (token, adam_id, pricing_param, description, categories)}``."""
    with opened_store(runner) as store:
        return {
            app["name"]: (app["token"], app["adam_id"], app["pricing_param"], app["description"], app["categories"])
            for app in store.list_applications()
        }


def keys(apps):
    """The (token, adam_id, pricing_param) of each listed app, in order."""
    return [(app["token"], app["adam_id"], app["pricing_param"]) for app in apps]


def by_key(apps):
    """``{(token, adam_id, pricing_param): app}`` of a listing."""
    return {(app["token"], app["adam_id"], app["pricing_param"]): app for app in apps}
