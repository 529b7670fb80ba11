# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``kill -9`` of a playbook in the middle of a large sync and in the middle of a deployment.

The moment to kill is read from the simulator's request log (and, for the deployment, from the store), never
from a sleep. The next run must converge: no duplicate assignment, no lost deployment record, no resubmission of
an event Apple completed, and the killed process's token lock must not block it.
"""

from __future__ import annotations

import sqlite3

import pytest

from tests.integration.deployment_helpers import HQ, PAGES, apple_counts, apple_holders, deploy, member_states
from tests.integration.reliability_helpers import (
    BackgroundPlay,
    api_requests,
    played,
    seed,
    sqlite_runner,
    store_matches_apple,
    sync,
    wait_for,
)
from tests.integration.token_helpers import opened_store
from tests.simulator.scenario import generated_scenario
from tests.simulator.testing import Api, small_scenario
from tests.sync_helpers import apple_assignments, store_assignments

BIG = "loc-00000"
REVOCABLE_APP = "6000000001"  # generated data: every tenth asset, from 6000000000 on, is a book
SERIALS = ["SN-K1", "SN-K2", "SN-K3", "SN-K4"]


def lock_holders(runner):
    """``{token name: pid}`` of the per-token lock rows in the store (the test reads the table itself)."""
    conn = sqlite3.connect(str(runner.store))
    try:
        return dict(conn.execute("SELECT name, pid FROM locks").fetchall())
    finally:
        conn.close()


@pytest.fixture
def big_sim(simulator_factory):
    """One location with 6,000 assignments, 100 per page: a sync reads 60+ pages, slowed down during the test."""
    scenario = generated_scenario(locations=1, assets=20, assignments=6000, users=600)
    scenario["settings"].update(page_size=100, event_delay=0.01)
    scenario["limits"] = {"maxRequestPerSecond": 40}
    return simulator_factory(scenario)


def test_kill_9_in_the_middle_of_a_large_sync_then_the_next_sync_converges(tmp_path, collections_path, big_sim):
    runner = sqlite_runner(tmp_path, collections_path, big_sim)
    seed(runner, big_sim, {"big": BIG})
    with opened_store(runner) as store:
        synced_before = store_assignments(store, "big")
        token_before = store.get_token("big")
    # changes at Apple the killed sync was bringing: a user and a device lose a license, another user gains one
    assert apple_assignments(big_sim, BIG) == synced_before
    api = Api(big_sim, big_sim.tokens[BIG])
    removed = sorted(row for row in synced_before if row[0] == REVOCABLE_APP)[:2]
    for adam_id, pricing, kind, target in removed:
        key = "clientUserIds" if kind == "user" else "serialNumbers"
        status = api.run_event("/assets/disassociate", {"assets": [{"adamId": adam_id, "pricingParam": pricing}],
                                                        key: [target]})  # fmt: skip
        assert status["eventStatus"] == "COMPLETE"
    big_sim.configure(latency_ms=40)
    big_sim.clear_request_log()

    play = BackgroundPlay(runner, [sync(mode="full")], "killed-sync")
    wait_for(lambda: len(api_requests(big_sim, "GET", "/assignments")) >= 10, "the sync to be mid-listing")
    play.kill()

    pages_read = len(api_requests(big_sim, "GET", "/assignments"))
    assert pages_read < 60, "the sync finished before it was killed: the test proved nothing"
    with opened_store(runner) as store:
        # the killed sync's pages never went live: the previous consistent state, versions included
        assert store_assignments(store, "big") == synced_before
        token_after = store.get_token("big")
        assert (token_after["last_sync_at"], token_after["assignments_version"]) == (
            token_before["last_sync_at"],
            token_before["assignments_version"],
        )
    assert "big" in lock_holders(runner)  # the dead process's lock is still recorded...

    big_sim.configure(latency_ms=0)
    run = played(runner, [sync("next sync", mode="incremental")])  # ...and taken over at once
    result = run.result("next sync")["tokens"][0]
    assert result["status"] == "ok" and result["assignments"]["removed"] == len(removed)
    assert store_matches_apple(runner, big_sim, "big", BIG)
    with opened_store(runner) as store:
        assert store.count_assignments("big") == len(apple_assignments(big_sim, BIG))  # no duplicate
    assert lock_holders(runner) == {}


@pytest.fixture
def sim(simulator_factory):
    scenario = small_scenario(event_delay=0.01)
    scenario["limits"] = {"maxRequestPerSecond": 100}
    return simulator_factory(scenario)


def test_kill_9_after_submitting_a_deployment_then_the_next_run_resumes_without_resubmitting(
    tmp_path, collections_path, sim
):
    runner = sqlite_runner(tmp_path, collections_path, sim)
    seed(runner, sim, {"hq": HQ}, applications={"pages": ("hq", PAGES)})
    sim.configure(hold_events=True)  # Apple accepts the associate call and keeps the event pending
    sim.clear_request_log()

    play = BackgroundPlay(runner, [deploy("deploy", "ipads", "device", SERIALS)], "killed-deployment")
    wait_for(lambda: api_requests(sim, "POST", "/assets/associate"), "the associate call")

    def event_recorded():
        with opened_store(runner) as store:
            return store.get_deployment("ipads") is not None and store.pending_events(deployment="ipads")

    [event] = wait_for(event_recorded, "the submitted event to be stored")
    play.kill()

    assert member_states(runner, "ipads") == dict.fromkeys(SERIALS, "pending")  # the deployment record survived
    assert "hq" in lock_holders(runner)
    # Apple completes the event while nobody is waiting for it
    sim.configure(hold_events=False)
    assert sim.complete_events() == [event["event_id"]]

    run = played(runner, [deploy("next run", "ipads", "device", SERIALS)])
    result = run.result("next run")
    assert sorted(result["licensed"]) == SERIALS and result["pending_event_ids"] == []
    [associate] = api_requests(sim, "POST", "/assets/associate")  # the completed event was not resubmitted
    assert sorted(associate["body"]["serialNumbers"]) == SERIALS
    polled = {entry["query"]["eventId"][0] for entry in api_requests(sim, "GET", "/status")}
    assert event["event_id"] in polled
    assert member_states(runner, "ipads") == dict.fromkeys(SERIALS, "licensed")
    assert {("device", serial) for serial in SERIALS} <= apple_holders(sim, PAGES)
    assert store_matches_apple(runner, sim, "hq", HQ)
    assert played(runner, [deploy("again", "ipads", "device", SERIALS)]).result("again")["changed"] is False
    assert len(api_requests(sim, "POST", "/assets/associate")) == 1


def test_kill_9_while_the_associate_answer_is_on_its_way_then_the_rerun_is_right_the_first_time(
    tmp_path, collections_path, sim
):
    """Both batches went out together (writes overlap), Apple carried both out, the first one's answer never
    arrived, the play was killed: neither batch was recorded (answers are handled in order), only their intents.
    The rerun reads the app's assignments once, counts the 11 devices Apple licensed, and sends nothing (the old
    code planned 11 needed, none available, and refused)."""
    serials = ["SN-W%02d" % index for index in range(11)]
    runner = sqlite_runner(tmp_path, collections_path, sim)
    seed(runner, sim, {"hq": HQ}, applications={"pages": ("hq", PAGES)})
    sim.set_limits(maxSerialNumbers=7)
    assigned, available, _total = apple_counts(sim, PAGES)
    sim.purchase(HQ, PAGES, 11 - available)  # a refund: exactly 11 licenses free
    # the first batch (serials[:7]) loses its answer, whichever of the two batches in flight arrives first
    sim.inject_fault("lost_answer", path="/assets/associate", hang_seconds=60, body_contains=serials[0])
    sim.clear_request_log()

    play = BackgroundPlay(runner, [deploy("deploy", "ipads", "device", serials)], "killed-on-the-answer")

    def both_batches_done_and_intents_recorded():
        with opened_store(runner) as store:
            recorded = store.get_deployment("ipads") is not None and len(store.intents("ipads")) == 2
        return recorded and len(apple_holders(sim, PAGES)) == assigned + 11

    wait_for(both_batches_done_and_intents_recorded, "Apple to license both batches, the first one's answer held")
    play.kill()
    assert apple_counts(sim, PAGES)[1] == 0

    run = played(runner, [deploy("rerun", "ipads", "device", serials)])
    result = run.result("rerun")
    assert result["failed_members"] == [] and result["pending_event_ids"] == []
    assert member_states(runner, "ipads") == dict.fromkeys(serials, "licensed")
    assert {("device", serial) for serial in serials} <= apple_holders(sim, PAGES)
    # the rerun asked for nothing more (the lost batch's request is still held, so not yet in the log; the other
    # batch's is the killed run's)
    associates = [entry["body"]["serialNumbers"] for entry in api_requests(sim, "POST", "/assets/associate")]
    assert associates == [serials[7:]]
    assert len(api_requests(sim, "GET", "/assignments")) == 1  # one read of the app's assignments reconciled
    with opened_store(runner) as store:
        assert store.intents("ipads") == []
    assert store_matches_apple(runner, sim, "hq", HQ)
    assert played(runner, [deploy("again", "ipads", "device", serials)]).result("again")["changed"] is False


def test_an_event_still_pending_after_10_minutes_is_submitted_again_and_the_old_one_polled_no_more(
    tmp_path, collections_path, sim
):
    runner = sqlite_runner(tmp_path, collections_path, sim)
    seed(runner, sim, {"hq": HQ}, applications={"pages": ("hq", PAGES)})
    sim.configure(hold_events=True)  # Apple never gets round to the first event
    first = played(runner, [deploy("deploy", "ipads", "device", SERIALS, wait=False)]).result("deploy")
    [old_event] = first["pending_event_ids"]
    conn = sqlite3.connect(str(runner.store))  # the event was submitted 11 minutes ago
    with conn:
        conn.execute("UPDATE events SET submitted_at = '2000-01-01T00:00:00+00:00' WHERE event_id = ?", (old_event,))
    conn.close()
    sim.clear_request_log()

    result = played(runner, [deploy("rerun", "ipads", "device", SERIALS, wait=False)]).result("rerun")
    [associate] = api_requests(sim, "POST", "/assets/associate")
    assert sorted(associate["body"]["serialNumbers"]) == SERIALS
    [new_event] = result["pending_event_ids"]
    assert new_event != old_event
    with opened_store(runner) as store:
        assert store.get_event("hq", old_event)["status"] == "SUPERSEDED"
        assert [event["event_id"] for event in store.pending_events(deployment="ipads")] == [new_event]
    assert {row["event_id"] for row in _members(runner, "ipads")} == {new_event}

    sim.configure(hold_events=False)
    sim.complete_events()
    sim.clear_request_log()
    last = played(runner, [deploy("last", "ipads", "device", SERIALS)]).result("last")
    polled = {entry["query"]["eventId"][0] for entry in api_requests(sim, "GET", "/status")}
    assert old_event not in polled and new_event in polled
    assert member_states(runner, "ipads") == dict.fromkeys(SERIALS, "licensed") and last["failed_members"] == []


def _members(runner, deployment):
    with opened_store(runner) as store:
        return store.list_members(deployment)
