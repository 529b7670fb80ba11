# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mdm.vpp.vpp_token_info: stored facts, and live checks at the simulator that write nothing."""

from __future__ import annotations

import pytest

from tests.integration.token_helpers import OTHER_MANAGER, assert_no_secret, posts, stored_tokens, token_task

HQ, SCHOOL = "business-hq", "school-east"


@pytest.fixture
def registered(ansible, simulator):
    """hq (business, a year left) and school (education, 10 days left) registered and claimed."""
    run = ansible.play(
        [
            token_task("hq", token=simulator.tokens[HQ], categories=["europe"]),
            token_task("school", token=simulator.tokens[SCHOOL], token_type="education"),
        ]
    )
    assert run.rc == 0, run.stdout
    simulator.clear_request_log()
    return ansible


def apple_calls(simulator):
    """Calls made with a token (the service config, fetched once per module run, needs none)."""
    return [(e["method"], e["path"]) for e in simulator.request_log() if e["path"] != "/mdm/v2/service/config"]


def info_task(task_name, **options):
    return {"name": task_name, "mdm.vpp.vpp_token_info": options}


def test_lists_stored_facts_filters_by_name_and_warns_of_expiry(registered, simulator):
    run = registered.play(
        [
            info_task("all"),
            info_task("one", names=["school", "not-registered"]),
            info_task("wide window", names=["hq"], expiry_warning_days=400),
        ],
        check=True,
    )
    assert run.rc == 0, run.stdout
    everything = run.result("all")
    assert everything["changed"] is False
    assert [token["name"] for token in everything["tokens"]] == ["hq", "school"]
    hq, school = everything["tokens"]
    assert (hq["status"], hq["claimed"], hq["categories"], hq["token_type"]) == ("valid", True, ["europe"], "business")
    assert (school["status"], school["token_type"], school["country"]) == ("expiring", "education", "GB")
    assert school["days_left"] in (9, 10) and "check_error" not in school
    assert any("'school'" in warning and "Apple School Manager" in warning for warning in everything["warnings"])
    assert not any("'hq'" in warning for warning in everything["warnings"])
    assert [token["name"] for token in run.result("one")["tokens"]] == ["school"]
    assert run.result("wide window")["tokens"][0]["status"] == "expiring"
    assert simulator.request_log() == []  # without check, Apple is not asked
    assert_no_secret(run, simulator.tokens[HQ], simulator.tokens[SCHOOL])


def test_check_detects_revocation_and_takeover_without_writing(registered, simulator):
    before = stored_tokens(registered)
    simulator.revoke_token(HQ)
    simulator.set_mdm_info(SCHOOL, OTHER_MANAGER)
    run = registered.play([info_task("stored"), info_task("live", check=True)])
    assert run.rc == 0, run.stdout

    stored = {token["name"]: token for token in run.result("stored")["tokens"]}
    assert (stored["hq"]["status"], stored["school"]["status"]) == ("valid", "expiring")
    live = {token["name"]: token for token in run.result("live")["tokens"]}
    assert run.result("live")["changed"] is False
    assert live["hq"]["status"] == "revoked" and "9625" in live["hq"]["check_error"]
    assert live["school"]["status"] == "claimed_elsewhere" and live["school"]["claimed"] is False
    assert "'Other MDM'" in live["school"]["check_error"]

    # nothing written: not the store, not Apple (the other manager keeps the location)
    assert stored_tokens(registered) == before
    assert posts(simulator) == []
    assert simulator.location_state(SCHOOL)["mdmInfo"] == OTHER_MANAGER
    assert apple_calls(simulator) == [("GET", "/mdm/v2/client/config")] * 2  # one per token


def test_check_says_an_expired_token_once(registered, simulator):
    simulator.expire_token(HQ)
    run = registered.play([info_task("live", check=True, names=["hq"])])
    assert run.rc == 0, run.stdout
    (hq,) = run.result("live")["tokens"]
    assert hq["status"] == "expired"
    assert hq["check_error"] == (
        "token 'hq': GET /client/config: Apple says the content token has expired (error 9621, HTTP 401): download "
        "a new content token from Apple Business or Apple School Manager and run vpp_token again"
    )


def test_check_of_healthy_tokens_reports_no_error(registered, simulator):
    run = registered.play([info_task("live", check=True, names=["hq"])])
    assert run.rc == 0, run.stdout
    (hq,) = run.result("live")["tokens"]
    assert (hq["status"], hq["claimed"], hq["check_error"]) == ("valid", True, None)
    assert apple_calls(simulator) == [("GET", "/mdm/v2/client/config")]


def test_tokens_are_checked_side_by_side_and_reported_in_name_order(registered, simulator):
    simulator.configure(latency_ms=500)
    run = registered.play([info_task("live", check=True)])
    assert run.rc == 0, run.stdout
    assert [token["name"] for token in run.result("live")["tokens"]] == ["hq", "school"]
    arrivals = [e["time"] for e in simulator.request_log() if e["path"] == "/mdm/v2/client/config"]
    assert len(arrivals) == 2 and max(arrivals) - min(arrivals) < 0.5  # both asked before either was answered

    one_at_a_time = registered.play([info_task("serial", check=True, parallel=1)])
    assert [token["check_error"] for token in one_at_a_time.result("serial")["tokens"]] == [None, None]


def test_parallel_below_one_is_refused(registered, simulator):
    run = registered.play([dict(info_task("bad", check=True, parallel=0), ignore_errors=True)])
    assert "parallel must be at least 1, got 0" in run.result("bad")["msg"]
    assert apple_calls(simulator) == []
