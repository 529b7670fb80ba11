# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apple misbehaving during syncs and deployments (the simulator's fault hooks), with real ansible-playbook runs.

Every run either completes correctly (the store then holds exactly Apple's picture) or fails with a message that
says what, why and what to do, leaving the store as it was; a clean re-run then converges. Small ``retries`` and
``timeout`` values keep the tests quick.
"""

from __future__ import annotations

import pytest

from tests.integration.deployment_helpers import HQ, PAGES, apple_holders, deploy, member_states, store_holders
from tests.integration.reliability_helpers import (
    api_requests,
    played,
    seed,
    sqlite_runner,
    store_matches_apple,
    sync,
    wait_for,
)
from tests.integration.test_vpp_sync import (
    apple_picture,
    change_licenses_at_apple,
    database_dump,
    store_picture,
)
from tests.integration.token_helpers import opened_store
from tests.simulator.testing import Api, small_scenario

TOKEN = "hq"
SERIALS = ["SN-F1", "SN-F2", "SN-F3"]


@pytest.fixture
def sim(simulator_factory):
    """Pages of two records so that every listing has several pages; a fast event worker; no throttling."""
    scenario = small_scenario(event_delay=0.01, page_size=2)
    scenario["limits"] = {"maxRequestPerSecond": 100}
    return simulator_factory(scenario)


@pytest.fixture
def runner(tmp_path, collections_path, sim):
    return sqlite_runner(tmp_path, collections_path, sim)


def statuses(sim, path, method="GET"):
    """The HTTP statuses Apple answered on ``path``, in order (None for a dropped or timed-out request)."""
    return [entry["status"] for entry in api_requests(sim, method=method, path=path)]


def assert_synced_like_apple(runner, sim):
    assert store_picture(runner, TOKEN) == apple_picture(sim, HQ)


def registered_and_synced(runner, sim):
    """hq registered and synced; then changes at Apple the next sync must bring."""
    seed(runner, sim, {TOKEN: HQ})
    change_licenses_at_apple(sim)
    sim.clear_request_log()


def failed_then_converges(runner, sim, faulted_run, task, expected):
    """The faulted ``task`` failed with every ``expected`` text and changed nothing; a clean re-run converges."""
    result = faulted_run.result(task)
    assert faulted_run.rc != 0 and faulted_run.status(task) == "failed"
    for text in expected:
        assert text in result["msg"], result["msg"]
    sim.clear_faults()
    run = played(runner, [sync("clean re-run")])
    assert run.result("clean re-run")["changed"] is True
    assert_synced_like_apple(runner, sim)


# --- during a sync ----------------------------------------------------------------------------------------------


def test_a_429_storm_during_a_sync_is_ridden_out(runner, sim):
    registered_and_synced(runner, sim)
    sim.inject_fault("429", count=2, path="/assignments", retry_after=0)
    run = played(runner, [sync(retries=3)])
    assert run.result("sync")["tokens"][0]["status"] == "ok"
    assert statuses(sim, "/assignments")[:3] == [429, 429, 200]
    assert_synced_like_apple(runner, sim)


def test_a_429_storm_longer_than_the_retries_fails_clearly_and_keeps_the_store(runner, sim):
    registered_and_synced(runner, sim)
    before = database_dump(runner.store)
    sim.inject_fault("429", count=50, path="/assignments", retry_after=0)
    run = runner.play([sync(retries=2)])
    assert statuses(sim, "/assignments") == [429, 429, 429]
    assert database_dump(runner.store) == before
    failed_then_converges(
        runner, sim, run, "sync", ["hq: GET /assignments", "error 9646", "after 3 attempt(s)", "run again later"]
    )


def test_503_with_retry_after_is_honoured(runner, sim):
    registered_and_synced(runner, sim)
    sim.inject_fault("503", count=1, path="/assets", retry_after=1)
    played(runner, [sync()])
    faulted, retried = api_requests(sim, method="GET", path="/assets")[:2]
    assert (faulted["status"], retried["status"]) == (503, 200)
    assert retried["time"] - faulted["time"] >= 1.0  # Apple asked for a second: the client waited at least that
    assert_synced_like_apple(runner, sim)


def test_500s_in_the_middle_of_the_pages_are_retried(runner, sim):
    registered_and_synced(runner, sim)
    sim.inject_fault("500", count=2, path="/users")
    run = played(runner, [sync(retries=3)])
    assert statuses(sim, "/users").count(500) == 2
    assert run.result("sync")["tokens"][0]["users"]["changed"] == 1  # u-2 accepted the invitation
    assert_synced_like_apple(runner, sim)


def test_an_error_body_with_http_200_is_an_error_not_data(runner, sim):
    registered_and_synced(runner, sim)
    sim.inject_fault("error200", count=2, path="/assignments")  # 9603: Apple's "try again" error
    played(runner, [sync(retries=3)])
    assert statuses(sim, "/assignments")[:3] == [200, 200, 200]  # two error bodies, then the data
    assert_synced_like_apple(runner, sim)


def test_a_refusal_in_an_http_200_body_fails_with_apples_error_and_keeps_the_store(runner, sim):
    registered_and_synced(runner, sim)
    before = database_dump(runner.store)
    sim.inject_fault("error200", count=1, path="/users", error_number=9602)  # not retryable
    run = runner.play([sync(retries=3)])
    assert statuses(sim, "/users") == [200]  # refused for good: not retried
    assert database_dump(runner.store) == before
    failed_then_converges(runner, sim, run, "sync", ["hq: GET /users", "error 9602, HTTP 200", "Apple queued nothing"])


def test_dropped_connections_during_a_sync_are_retried(runner, sim):
    registered_and_synced(runner, sim)
    sim.inject_fault("drop", count=2, path="/assignments")
    played(runner, [sync(retries=3)])
    assert statuses(sim, "/assignments")[:3] == [None, None, 200]
    assert_synced_like_apple(runner, sim)


def test_a_request_without_answer_times_out_and_is_retried(runner, sim):
    registered_and_synced(runner, sim)
    sim.inject_fault("timeout", count=1, path="/users", hang_seconds=3)
    played(runner, [sync(timeout=1, retries=2)])
    # the hung request is logged when the simulator gives up on it, possibly after the play ended
    wait_for(lambda: None in statuses(sim, "/users"), "the hung request to be logged")
    assert statuses(sim, "/users")[:2] == [None, 200]
    assert_synced_like_apple(runner, sim)


def test_a_trickling_answer_is_cut_at_the_timeout_and_retried(runner, sim):
    """One byte every 200 ms keeps every socket read fed: only a whole-request deadline ends it."""
    registered_and_synced(runner, sim)
    before = database_dump(runner.store)
    sim.configure(fault_trickle_ms=200)
    sim.inject_fault("trickle", count=3, path="/users", hang_seconds=8)
    run = runner.play([sync(timeout=1, retries=2)])  # every attempt trickles
    assert database_dump(runner.store) == before
    failed_then_converges(
        runner, sim, run, "sync", ["GET /users: no answer within the timeout (after 3 attempt(s))", "raise 'retries'"]
    )
    sim.inject_fault("trickle", count=1, path="/users", hang_seconds=8)
    played(runner, [sync(timeout=1, retries=2)])  # the first attempt trickles, the retry is answered
    assert_synced_like_apple(runner, sim)


def test_apple_unreachable_for_good_fails_clearly_and_keeps_the_store(runner, sim):
    registered_and_synced(runner, sim)
    before = database_dump(runner.store)
    sim.inject_fault("drop", count=100)
    run = runner.play([sync(retries=1)])
    assert database_dump(runner.store) == before
    failed_then_converges(
        runner,
        sim,
        run,
        "sync",
        ["hq: GET /service/config: connection failed or was dropped (after 2 attempt(s))", "raise 'retries'"],
    )


def page_indexes(sim, path):
    return [int(entry["query"]["pageIndex"][0]) for entry in api_requests(sim, method="GET", path=path)]


def test_assignment_pages_without_their_list_fail_the_sync_and_keep_the_store(runner, sim):
    registered_and_synced(runner, sim)
    before = database_dump(runner.store)
    sim.inject_fault("malformed", count=5, path="/assignments", drop_keys=["assignments"])
    run = runner.play([sync(mode="full", retries=3)])
    assert page_indexes(sim, "/assignments") == [0, 0, 0, 0]  # four attempts, none taken for an empty page
    assert database_dump(runner.store) == before  # no assignment row removed, nothing else written
    failed_then_converges(
        runner,
        sim,
        run,
        "sync",
        ["hq: GET /assignments page 0: Apple's answer has no 'assignments' list (after 4 attempt(s))",
         "nothing was stored from it"],
    )  # fmt: skip


def test_one_malformed_page_is_retried_and_the_sync_completes(runner, sim):
    registered_and_synced(runner, sim)
    sim.inject_fault("malformed", count=1, path="/assignments", drop_keys=["totalPages", "versionId"])
    run = played(runner, [sync(mode="full", retries=2)])
    assert run.result("sync")["tokens"][0]["status"] == "ok"
    assert page_indexes(sim, "/assignments")[:2] == [0, 0]
    assert_synced_like_apple(runner, sim)


@pytest.mark.parametrize(("count", "described"), [(-1, "int -1"), ("7", "text '7'")])
def test_an_asset_count_that_is_not_a_count_fails_clearly_and_keeps_the_store(runner, sim, count, described):
    registered_and_synced(runner, sim)
    before = database_dump(runner.store)
    asset = {"adamId": PAGES, "pricingParam": "STDQ", "productType": "App", "assignedCount": 2,
             "availableCount": count, "retiredCount": 0, "totalCount": 50, "deviceAssignable": True}  # fmt: skip
    body = {"assets": [asset], "currentPageIndex": 0, "size": 1, "totalPages": 1, "versionId": "v-malformed"}
    sim.inject_fault("malformed", count=10, path="/assets", body=body)
    run = runner.play([sync(retries=1)])
    assert database_dump(runner.store) == before
    message = "hq: GET /assets page 0: assets[0] (adamId %s) has availableCount %s, not a count of 0 or more" % (
        PAGES,
        described,
    )
    failed_then_converges(runner, sim, run, "sync", [message, "after 2 attempt(s)"])


def test_an_assignment_record_without_target_is_skipped_with_a_warning(runner, sim):
    registered_and_synced(runner, sim)
    first_page = Api(sim, sim.tokens[HQ]).get("/assignments").json()
    first_page["assignments"].append({"adamId": PAGES, "pricingParam": "STDQ"})  # neither user nor device
    sim.inject_fault("malformed", count=1, path="/assignments", body=first_page)
    run = played(runner, [sync(mode="full")])
    result = run.result("sync")
    assert result["tokens"][0]["status"] == "ok"
    warning = "token hq: skipped 1 assignment record(s) without serialNumber or clientUserId"
    assert warning in result["warnings"]
    assert_synced_like_apple(runner, sim)


# --- during a deployment ----------------------------------------------------------------------------------------


def deployment_ready(runner, sim):
    seed(runner, sim, {TOKEN: HQ}, applications={"pages": (TOKEN, PAGES)})
    sim.clear_request_log()


def associate_events(sim):
    return [event for event in sim.location_state(HQ)["events"] if event["eventType"] == "ASSOCIATE"]


def assert_deployed_once(runner, sim):
    """The members hold one license each at Apple and in the store, from exactly one accepted associate call."""
    assert {("device", serial) for serial in SERIALS} <= apple_holders(sim, PAGES)
    assert {("device", serial) for serial in SERIALS} <= store_holders(runner, PAGES)
    assert member_states(runner, "ipads") == dict.fromkeys(SERIALS, "licensed")
    assert len(associate_events(sim)) == 1
    assert store_matches_apple(runner, sim, TOKEN, HQ)


def test_503s_on_the_associate_call_are_retried_and_assign_once(runner, sim):
    deployment_ready(runner, sim)
    sim.inject_fault("503", count=2, path="/assets/associate", retry_after=0)
    played(runner, [deploy("deploy", "ipads", "device", SERIALS, retries=3)])
    assert statuses(sim, "/assets/associate", "POST") == [503, 503, 200]
    assert_deployed_once(runner, sim)


def test_a_dropped_associate_call_is_retried_and_assigns_once(runner, sim):
    deployment_ready(runner, sim)
    sim.inject_fault("drop", count=1, path="/assets/associate")
    played(runner, [deploy("deploy", "ipads", "device", SERIALS, retries=2)])
    assert statuses(sim, "/assets/associate", "POST") == [None, 200]
    assert_deployed_once(runner, sim)


def test_an_associate_call_without_answer_times_out_and_is_retried_once(runner, sim):
    deployment_ready(runner, sim)
    sim.inject_fault("timeout", count=1, path="/assets/associate", hang_seconds=2)
    played(runner, [deploy("deploy", "ipads", "device", SERIALS, timeout=1, retries=2)])
    wait_for(lambda: None in statuses(sim, "/assets/associate", "POST"), "the hung request to be logged")
    assert statuses(sim, "/assets/associate", "POST") == [None, 200]
    assert_deployed_once(runner, sim)


def test_an_associate_call_refused_for_good_fails_clearly_and_the_rerun_deploys(runner, sim):
    deployment_ready(runner, sim)
    sim.inject_fault("500", count=10, path="/assets/associate")
    run = runner.play([deploy("deploy", "ipads", "device", SERIALS, retries=1, ignore_errors=True)])
    message = run.result("deploy")["msg"]
    assert "deployment 'ipads': POST /assets/associate" in message and "after 2 attempt(s)" in message
    assert "run again later" in message
    assert associate_events(sim) == [] and apple_holders(sim, PAGES).isdisjoint({("device", s) for s in SERIALS})
    with opened_store(runner) as store:
        assert store.pending_events(deployment="ipads") == []  # nothing was submitted, nothing to resume
    sim.clear_faults()
    played(runner, [deploy("again", "ipads", "device", SERIALS)])
    assert_deployed_once(runner, sim)


def test_status_polls_failing_leave_the_event_stored_and_the_rerun_resumes_without_resubmitting(runner, sim):
    deployment_ready(runner, sim)
    sim.inject_fault("503", count=10, path="/status", retry_after=0)
    run = runner.play([deploy("deploy", "ipads", "device", SERIALS, retries=1, ignore_errors=True)])
    message = run.result("deploy")["msg"]
    assert "GET /status" in message and "after 2 attempt(s)" in message and "run again later" in message
    [event] = associate_events(sim)
    with opened_store(runner) as store:
        assert [row["event_id"] for row in store.pending_events(deployment="ipads")] == [event["eventId"]]
    assert member_states(runner, "ipads") == dict.fromkeys(SERIALS, "pending")
    sim.clear_faults()
    run = played(runner, [deploy("resume", "ipads", "device", SERIALS)])
    assert sorted(run.result("resume")["licensed"]) == SERIALS
    assert len(api_requests(sim, method="POST", path="/assets/associate")) == 1  # resumed, never resubmitted
    assert_deployed_once(runner, sim)


def test_an_error_body_with_http_200_on_the_associate_call_is_retried(runner, sim):
    deployment_ready(runner, sim)
    sim.inject_fault("error200", count=1, path="/assets/associate")
    played(runner, [deploy("deploy", "ipads", "device", SERIALS, retries=2)])
    assert statuses(sim, "/assets/associate", "POST") == [200, 200]
    assert_deployed_once(runner, sim)
