# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Many AWX jobs at once: parallel ``ansible-playbook`` runs (syncs and deployments, on the same and on different
tokens) against one PostgreSQL store end with the right state, with no deadlock and no lost update."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.integration.conftest import Ansible
from tests.integration.deployment_helpers import (
    PAGES,
    apple_counts,
    apple_holders,
    deploy,
    deployment_scenario,
    setup_tasks,
)
from tests.integration.test_vpp_sync import LOCATIONS, apple_picture, by_name, register_tasks, store_picture, sync_task
from tests.integration.token_helpers import opened_store
from tests.postgres import fresh_database

KEY = "one key for every execution node"
EAST_ASSIGNMENTS = 3000
FLEET_A = ["SN-A%02d" % index for index in range(1, 9)]
FLEET_B = ["SN-B%02d" % index for index in range(1, 9)]


def busy_scenario():
    """hq ready for deployments; east with thousands of licenses over many pages, so that syncs of one token that
    did not take turns would interleave their page-by-page writes."""
    scenario = deployment_scenario()
    scenario["settings"]["page_size"] = 100
    east = next(location for location in scenario["locations"] if location["key"] == LOCATIONS["east"])
    east["generate"] = {"assets": 20, "assignments": EAST_ASSIGNMENTS, "users": 300, "seed": 7}
    return scenario


@pytest.fixture
def shared_store(monkeypatch):
    """One PostgreSQL store for every job, and its key (as an AWX credential injects it)."""
    monkeypatch.setenv("VPP_STORE_KEY", KEY)
    with fresh_database() as dsn:
        yield dsn


def test_parallel_syncs_and_deployments_end_consistent(tmp_path, collections_path, simulator_factory, shared_store):
    sim = simulator_factory(busy_scenario())

    def job(index):
        """A job on its own 'execution node': its own working directory, the shared store."""
        workdir = tmp_path / ("node-%d" % index)
        workdir.mkdir(exist_ok=True)
        return Ansible(workdir, collections_path, sim.url, store=shared_store)

    setup = job(0).play([*register_tasks(sim), *setup_tasks(sim)[1:]])
    assert setup.rc == 0, setup.stdout
    assigned_before = apple_counts(sim, PAGES)[0]
    plays = [
        [deploy("deploy", "ipads-a", "device", FLEET_A)],  # two deployments of one app of one token at once
        [deploy("deploy", "ipads-b", "device", FLEET_B)],
        [sync_task(mode="full")],  # every token, including hq while it is being deployed to
        [sync_task(mode="full", tokens=["east"])],  # the same other token twice at once
        [sync_task(mode="incremental", tokens=["east"])],
        [sync_task(mode="auto", tokens=["hq"])],
    ]

    with ThreadPoolExecutor(max_workers=len(plays)) as pool:
        runs = list(pool.map(lambda numbered: job(numbered[0]).play(numbered[1]), enumerate(plays, start=1)))

    for run in runs:
        assert run.rc == 0, run.stdout + run.stderr  # a deadlock or a lock timeout would fail its job
    # Apple did not change east: a sync that reports a removed license lost another job's rows
    for run in runs[2:5]:  # the three syncs of east
        east = by_name(run.result("sync"))["east"]
        assert (east["assignments"]["removed"], east["assignments"]["added"]) == (0, 0), east
    # both deployments got their licenses, none lost to the other
    assert {("device", serial) for serial in FLEET_A + FLEET_B} <= apple_holders(sim, PAGES)
    assert apple_counts(sim, PAGES)[0] == assigned_before + len(FLEET_A) + len(FLEET_B)
    with opened_store(job(0)) as store:
        for name in ("ipads-a", "ipads-b"):
            assert store.count_members(name)["licensed"] == len(FLEET_A)
    # the store already agrees with Apple: a last full sync finds no assignment to add or remove
    final = job(7).play([sync_task(mode="full")])
    assert final.rc == 0, final.stdout
    for name, location in LOCATIONS.items():
        assert (by_name(final.result("sync"))[name]["assignments"]["added"], name) == (0, name)
        assert (by_name(final.result("sync"))[name]["assignments"]["removed"], name) == (0, name)
        assert store_picture(job(0), name) == apple_picture(sim, location)
