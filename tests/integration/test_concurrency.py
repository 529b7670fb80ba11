# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Two playbooks at once on one store: on the same token they take turns (per-token lock) and both end correct;
on different tokens they run side by side.

The first play is held inside its token lock by the simulator (``hold_events``: Apple keeps its associate event
pending) until the test releases it, so the order of events is set by the test, not by timing.
"""

from __future__ import annotations

import os

import pytest

from tests.integration.deployment_helpers import HQ, PAGES, apple_holders, deploy, member_states
from tests.integration.reliability_helpers import (
    BackgroundPlay,
    api_requests,
    seed,
    sqlite_runner,
    store_matches_apple,
    sync,
    wait_for,
)
from tests.integration.token_helpers import opened_store
from tests.simulator.testing import small_scenario

SCHOOL = "school-east"
FIRST = ["SN-P1", "SN-P2"]
SECOND = ["SN-Q1", "SN-Q2", "SN-Q3"]


@pytest.fixture
def sim(simulator_factory):
    scenario = small_scenario(event_delay=0.01)
    scenario["limits"] = {"maxRequestPerSecond": 100}
    return simulator_factory(scenario)


@pytest.fixture
def runner(tmp_path, collections_path, sim):
    runner = sqlite_runner(tmp_path, collections_path, sim)
    seed(runner, sim, {"hq": HQ, "east": SCHOOL}, applications={"pages": ("hq", PAGES)})
    sim.clear_request_log()
    return runner


def holding_the_lock(runner, sim):
    """Start a deployment on hq that Apple keeps waiting (its lock held) once its associate call is logged."""
    sim.configure(hold_events=True)
    play = BackgroundPlay(runner, [deploy("first", "first-ipads", "device", FIRST)], "first")
    wait_for(lambda: api_requests(sim, "POST", "/assets/associate"), "the first deployment's associate call")
    return play


def has_store_open(play, store_path):
    """Whether a process of the play has the store file open (its module is past opening the store)."""
    for pid in play.tree():
        try:
            descriptors = os.listdir("/proc/%d/fd" % pid)
        except OSError:
            continue
        for descriptor in descriptors:
            try:
                if os.readlink("/proc/%d/fd/%s" % (pid, descriptor)) == str(store_path):
                    return True
            except OSError:
                continue
    return False


def event_of(runner, deployment):
    """The Apple event that licensed a deployment's members (one batch)."""
    with opened_store(runner) as store:
        [event_id] = {row["event_id"] for row in store.list_members(deployment)}
    return event_id


def release(sim):
    sim.configure(hold_events=False)
    sim.complete_events()


def test_two_playbooks_on_the_same_token_take_turns_and_both_end_correct(runner, sim):
    first = holding_the_lock(runner, sim)
    second = BackgroundPlay(runner, [deploy("second", "second-ipads", "device", SECOND)], "second")
    # the second module has opened the store: the next thing it does is take hq's lock, then call Apple
    wait_for(lambda: has_store_open(second, runner.store), "the second play's module to open the store")
    release(sim)
    first_run, second_run = first.finish(), second.finish()
    assert first_run.rc == 0 and second_run.rc == 0, first_run.stdout + second_run.stdout

    first_polls = [entry["time"] for entry in api_requests(sim, "GET", "/status")
                   if entry["query"]["eventId"] == [event_of(runner, "first-ipads")]]  # fmt: skip
    second_start = api_requests(sim, "GET", "/service/config")[1]["time"]  # each module reads it first, once
    assert second_start > max(first_polls), "the second play called Apple while the first held hq's lock"

    assert sorted(first_run.result("first")["licensed"]) == FIRST
    assert sorted(second_run.result("second")["licensed"]) == SECOND
    assert member_states(runner, "first-ipads") == dict.fromkeys(FIRST, "licensed")
    assert member_states(runner, "second-ipads") == dict.fromkeys(SECOND, "licensed")
    assert {("device", serial) for serial in FIRST + SECOND} <= apple_holders(sim, PAGES)
    assert len(api_requests(sim, "POST", "/assets/associate")) == 2
    assert store_matches_apple(runner, sim, "hq", HQ)


def test_playbooks_on_different_tokens_run_side_by_side(runner, sim):
    first = holding_the_lock(runner, sim)
    # while the first play holds hq's lock, a whole sync of east runs from start to end
    run = runner.play([sync("sync east", tokens=["east"])])
    assert run.rc == 0 and run.result("sync east")["tokens"][0]["status"] == "ok"
    assert first.process.poll() is None  # the first play is still waiting on Apple inside hq's lock
    release(sim)
    first_run = first.finish()
    assert first_run.rc == 0, first_run.stdout

    hq_times = [entry["time"] for entry in api_requests(sim, location=HQ)]
    east_times = [entry["time"] for entry in api_requests(sim, location=SCHOOL)]
    assert east_times and min(hq_times) < min(east_times) and max(east_times) < max(hq_times)  # overlapped
    assert member_states(runner, "first-ipads") == dict.fromkeys(FIRST, "licensed")
    assert store_matches_apple(runner, sim, "hq", HQ) and store_matches_apple(runner, sim, "east", SCHOOL)
