# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The playbooks the rulebooks of ``extensions/eda/rulebooks`` run, by real ``ansible-playbook`` against the
simulator, with the ``ansible_eda`` extra vars ansible-rulebook gives them (one ``event``, or a throttled rule's
``events``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.deployment_helpers import (
    HQ,
    PAGES,
    apple_counts,
    deploy,
    deployment_runner,
    deployment_sim,
    played,
    setup_tasks,
)
from tests.simulator.testing import Receiver

PLAYBOOKS = Path(__file__).resolve().parents[2] / "extensions" / "eda" / "playbooks"
PHONE, IPAD = "C02XK0AAJG5H", "DMPXK1ABCDEF"


@pytest.fixture
def sim(simulator_factory):
    return deployment_sim(simulator_factory)


@pytest.fixture
def runner(tmp_path, collections_path, sim):
    return deployment_runner(tmp_path, collections_path, sim)


def eda(runner, playbook, ansible_eda, env=None):
    """Run an EDA playbook with the extra vars ansible-rulebook would give it."""
    extra = json.dumps({"ansible_eda": ansible_eda})
    run = runner.run_playbook(PLAYBOOKS / playbook, extra_args=["-e", extra], env=env)
    assert run.rc == 0, run.stdout + run.stderr
    return run


def members(runner, deployment):
    run = played(runner, [{"name": "info", "mdm.vpp.vpp_deployment_info": {"name": deployment}}])
    return sorted(
        (m["id"], m["device_user"], m["state"]) for m in run.result("info")["deployments"][0]["member_details"]
    )


def test_a_user_who_accepted_reruns_exactly_the_install_deployments_holding_them(runner, sim):
    tasks = setup_tasks(sim, applications=("pages", "keynote"))
    tasks += [
        deploy("users", "keynote-users", "user", ["u-1", "u-2"], application="keynote"),
        deploy("ipad", "pages-ipad", "device", [{"serial": IPAD, "user": "u-2"}]),
        deploy("phone", "pages-phone", "device", [PHONE]),
    ]
    played(runner, tasks)
    before = {name: members(runner, name) for name in ("keynote-users", "pages-ipad", "pages-phone")}
    sim.accept_invitation(HQ, "u-2")

    event = {"vpp": {"kind": "user_associated", "token": "hq", "source": "apple_notification", "client_user_id": "u-2"}}
    run = eda(runner, "license_user.yml", {"event": event})
    reruns = run.result("Run each install deployment holding such a user again")["results"]
    assert sorted(item["item"]["name"] for item in reruns) == ["keynote-users", "pages-ipad"]
    # each ran with its own members: nobody left out, nothing to do again
    assert [item["changed"] for item in reruns] == [False, False]
    assert {name: members(runner, name) for name in before} == before

    run = eda(runner, "license_user.yml", {"event": dict(event, vpp=dict(event["vpp"], client_user_id="u-9"))})
    assert run.result("Run each install deployment holding such a user again")["results"] == []
    assert "no install deployment holds u-9" in run.stdout


def test_asset_count_notifications_sync_their_token_once(runner, sim):
    played(runner, setup_tasks(sim))
    sim.purchase(HQ, PAGES, 7)
    event = {"vpp": {"kind": "license_count", "token": "hq", "source": "apple_notification"}}
    run = eda(runner, "sync_token.yml", {"events": {"m_0": event, "m_1": event}})  # a throttled rule's burst
    (synced,) = run.result("Synchronise the tokens (changes only)")["tokens"]
    assert synced["name"] == "hq" and synced["status"] == "ok"
    assert [(c["adam_id"], c["after"]["total_count"]) for c in synced["license_count_changes"]] == [(PAGES, 57)]
    assert apple_counts(sim, PAGES)[2] == 57


def test_the_message_names_every_event_and_is_posted_to_the_url_of_the_environment(runner):
    receiver = Receiver()
    try:
        low = {
            "vpp": {
                "kind": "license_count",
                "token": "hq",
                "app": {"adam_id": PAGES, "name": "Pages"},
                "counts": {"total": 6, "assigned": 2, "available": 4},
                "low_threshold": 5,
            }
        }
        expiring = {"vpp": {"kind": "token_state", "token": "east", "state": "expiring", "state_before": "valid",
                            "expires_at": "2026-12-17T09:00:00+00:00", "days_left": 9}}  # fmt: skip
        run = eda(runner, "vpp_message.yml", {"events": {"m_0": low, "m_1": expiring}},
                  env={"VPP_MESSAGE_URL": receiver.url})  # fmt: skip
        (posted,) = receiver.payloads()
    finally:
        receiver.close()
    assert posted["text"] == (
        "mdm.vpp: Pages is low on licenses (token hq): 4 of 6 left, 2 assigned (low at 5 or fewer); token east is "
        "expiring (was valid), expires 2026-12-17, 9 day(s) left: renew it with a new content token and "
        "mdm.vpp.vpp_token"
    )
    assert receiver.url not in run.stdout  # the POST is no_log: a chat webhook's URL holds its secret
