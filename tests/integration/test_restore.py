# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A store restored from an older backup, then ``playbooks/recover.yml``: the store converges on Apple, and the
licenses no deployment here accounts for any more are reported as ``untracked``."""

from __future__ import annotations

import json
import shutil

from tests.conftest import REPO_ROOT
from tests.integration.deployment_helpers import HQ, PAGES, apple_counts, deploy, member_states
from tests.integration.reliability_helpers import api_requests, played, seed, sqlite_runner, store_matches_apple
from tests.simulator.testing import Api, small_scenario

BACKED_UP = ["SN-R1", "SN-R2", "SN-R3"]  # deployed before the backup
LOST = ["SN-S1", "SN-S2"]  # deployed after the backup: the restore forgets this deployment
APPS_TASK = "Read the apps and books with their license counts"  # the vpp_report role's vpp_app_info task


def test_a_restored_store_converges_with_recover_yml_and_reports_untracked_licenses(
    tmp_path, collections_path, simulator_factory
):
    scenario = small_scenario(event_delay=0.01)
    scenario["limits"] = {"maxRequestPerSecond": 100}
    sim = simulator_factory(scenario)
    runner = sqlite_runner(tmp_path, collections_path, sim)
    seed(runner, sim, {"hq": HQ}, applications={"pages": ("hq", PAGES)})
    played(runner, [deploy("before the backup", "kept", "device", BACKED_UP)])
    backup = tmp_path / "backup"
    shutil.copytree(runner.store.parent, backup)  # every connection is closed: the file is the whole store

    played(runner, [deploy("after the backup", "lost", "device", LOST)])
    # and someone assigns a license by hand in Apple's portal
    Api(sim, sim.tokens[HQ]).run_event("/assets/associate", {"assets": [{"adamId": PAGES}], "clientUserIds": ["u-2"]})
    shutil.rmtree(runner.store.parent)
    shutil.copytree(backup, runner.store.parent)
    assert not store_matches_apple(runner, sim, "hq", HQ)

    runner.runs += 1
    report_dir = tmp_path / "report"
    run = runner.run_playbook(REPO_ROOT + "/playbooks/recover.yml", extra_args=["-e", "vpp_report_dir=%s" % report_dir])
    assert run.rc == 0, run.stdout + run.stderr
    assert store_matches_apple(runner, sim, "hq", HQ)
    assigned = apple_counts(sim, PAGES)[0]
    assert assigned == 2 + len(BACKED_UP) + len(LOST) + 1  # the scenario's two, both deployments, the hand-made one
    [pages] = [app for app in run.result(APPS_TASK)["apps"] if app["adam_id"] == PAGES]
    assert (pages["assigned"], pages["deployed"]) == (assigned, len(BACKED_UP))
    assert pages["untracked"] == assigned - len(BACKED_UP)  # the lost deployment's, the hand-made one, the scenario's
    assert json.loads((report_dir / "vpp-licenses.json").read_text())  # the report was written

    # the deployment the backup knew is intact: re-running it changes nothing and writes nothing at Apple
    writes_before = len(api_requests(sim, method="POST"))
    again = played(runner, [deploy("kept again", "kept", "device", BACKED_UP)]).result("kept again")
    assert again["changed"] is False and len(api_requests(sim, method="POST")) == writes_before
    assert member_states(runner, "kept") == dict.fromkeys(BACKED_UP, "licensed")
    assert member_states(runner, "lost") is None
