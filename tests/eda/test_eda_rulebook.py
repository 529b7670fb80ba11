# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""End to end under a real ansible-rulebook (``make eda``; ``tools/eda.sh`` makes ``.venv-eda``): the Apple
simulator and the NanoMDM stand-in, real ``ansible-playbook`` runs, and ``extensions/eda/rulebooks/mdm_answers.yml``
whose source ``mdm.vpp.vpp_events`` records the devices' answers. With ``reclaim_when: removed`` the license comes
back only once the device's confirmation has arrived, through the rule's run of ``reclaim_removed.yml``."""

from __future__ import annotations

import re
from typing import NamedTuple

import pytest

from tests.eda.rulebooks import Rulebook, free_port, wait_for
from tests.integration.conftest import Ansible
from tests.integration.deployment_helpers import (
    HQ,
    KEYNOTE,
    NUMBERS,
    PAGES,
    apple_holders,
    deploy,
    deployment_scenario,
    setup_tasks,
)
from tests.integration.token_helpers import opened_store
from tests.mdm_simulator import MDMSimulator
from tests.mdm_simulator.testing import IPAD, IPHONE, Client, command

RULEBOOK = "extensions/eda/rulebooks/mdm_answers.yml"
HMAC_KEY = "webhook secret of the rulebook test"
API_KEY = "nanomdm api key of the rulebook test"
RECLAIM_TIMEOUT = 60  # seconds for the rule's playbook to give the licenses back at Apple
IPHONE_SERIAL, IPAD_SERIAL = "C02XK0AAJG5H", "DMPXK1ABCDEF"


class Deployment(NamedTuple):
    name: str
    application: str
    kind: str  # collection type
    adam_id: str
    members: list
    holders: set  # Apple's holders of the members' licenses


# Device licenses, the user license of an iPad's user (Numbers has no device licenses), a user collection.
DEPLOYMENTS = [
    Deployment("pages-phones", "pages", "device", PAGES, [{"serial": IPHONE_SERIAL, "enrollment_id": IPHONE},
                                                          {"serial": IPAD_SERIAL, "enrollment_id": IPAD}],
               {("device", IPHONE_SERIAL), ("device", IPAD_SERIAL)}),
    Deployment("numbers-ipads", "numbers", "device", NUMBERS,
               [{"serial": IPAD_SERIAL, "user": "u-1", "enrollment_id": IPAD}], {("user", "u-1")}),
    Deployment("keynote-users", "keynote", "user", KEYNOTE, [{"client_user_id": "u-1", "enrollment_id": IPAD}],
               {("user", "u-1")}),
]  # fmt: skip


@pytest.fixture
def apple(simulator_factory):
    return simulator_factory(deployment_scenario())


@pytest.fixture
def port():
    return free_port()


@pytest.fixture
def mdm_factory(apple, port):
    """NanoMDM stand-ins posting to the rulebook's source; they license only what the Apple simulator licensed."""
    started = []

    def factory(hmac_key=HMAC_KEY):
        oracle = {"apple_sim_url": apple.url.rsplit("/mdm/v2", 1)[0], "location": HQ}
        mdm = MDMSimulator(flavor="nanomdm", api_key=API_KEY, webhook_url="http://127.0.0.1:%d/mdm/webhook" % port,
                           webhook_hmac_key=hmac_key, license_oracle=oracle)  # fmt: skip
        started.append(mdm.start())
        return mdm

    yield factory
    for mdm in started:
        mdm.stop()


@pytest.fixture
def rulebooks(tmp_path, collections_path, port):
    started = []

    def factory(env):
        env = dict(env, VPP_MDM_WEBHOOK_SECRET=HMAC_KEY)
        rulebook = Rulebook(RULEBOOK, tmp_path, collections_path, env, {"vpp_events_port": port}).start(port)
        started.append(rulebook)
        return rulebook

    yield factory
    for rulebook in started:
        rulebook.stop()


def members_of(runner, deployment):
    """``{member_id: (state, install_state)}``."""
    with opened_store(runner) as store:
        return {row["member_id"]: (row["state"], row["install_state"]) for row in store.list_members(deployment)}


def holding(apple):
    """The licenses the deployments gave or take back that Apple still shows: ``{(adam_id, kind, id)}``."""
    return {(d.adam_id, *holder) for d in DEPLOYMENTS for holder in apple_holders(apple, d.adam_id)
            if holder in d.holders}  # fmt: skip


def test_the_licenses_come_back_once_the_devices_confirmed_the_removal(
    tmp_path, collections_path, apple, mdm_factory, rulebooks
):
    mdm = mdm_factory()
    mdm.set_apps({NUMBERS: "com.apple.iwork.numbers"})
    runner = Ansible(tmp_path, collections_path, apple.url)
    runner.env.update({"VPP_MDM_TYPE": "nanomdm", "VPP_MDM_URL": mdm.url, "VPP_MDM_API_KEY": API_KEY})
    tasks = setup_tasks(apple, applications=("pages", "numbers", "keynote"))
    for d in DEPLOYMENTS:
        tasks.append(deploy(d.name, d.name, d.kind, d.members, application=d.application))
    run = runner.play(tasks)
    assert run.rc == 0, run.stdout + run.stderr
    everything = {(d.adam_id, *holder) for d in DEPLOYMENTS for holder in d.holders}
    assert holding(apple) == everything

    rulebook = rulebooks(runner.env)
    results = mdm.connect()
    assert {(r["request_type"], r["status"]) for r in results} == {("InstallApplication", "Acknowledged")}
    assert len(results) == 4
    for d in DEPLOYMENTS:
        assert set(members_of(runner, d.name).values()) == {("licensed", "installed")}

    uninstalls = [
        deploy(d.name + "-off", d.name + "-off", d.kind, d.members, application=d.application, action="uninstall")
        for d in DEPLOYMENTS
    ]
    run = runner.play(uninstalls)
    assert run.rc == 0, run.stdout + run.stderr
    for d in DEPLOYMENTS:
        assert run.result(d.name + "-off")["mdm"]["counts"]["awaiting_removal"] == len(d.members)
        assert set(members_of(runner, d.name + "-off").values()) == {("pending", "removal_sent")}
    assert holding(apple) == everything  # the licenses wait for the devices
    with opened_store(runner) as store:
        removal_uuid = store.list_members("pages-phones-off")[0]["command_uuid"]

    # an answer signed with another key (the device "does not manage" the app: it would count as removed) is refused
    forger = mdm_factory(hmac_key="not the source's key")
    enqueue = Client(forger, api_key=API_KEY).request(
        "PUT", "/v1/enqueue/%s" % IPHONE, data=command("RemoveApplication", removal_uuid,
                                                       Identifier="com.apple.iwork.pages"))  # fmt: skip
    assert enqueue.status_code == 200, enqueue.text
    assert forger.connect([IPHONE])[0]["status"] == "Error"
    assert {item["status"] for item in forger.webhook_deliveries()} == {401}
    assert set(members_of(runner, "pages-phones-off").values()) == {("pending", "removal_sent")}

    results = mdm.connect()
    assert {(r["request_type"], r["status"]) for r in results} == {("RemoveApplication", "Acknowledged")}
    assert {item["status"] for item in mdm.webhook_deliveries()} == {200}

    def all_reclaimed():
        return all(set(members_of(runner, d.name + "-off").values()) == {("reclaimed", "removed")}
                   for d in DEPLOYMENTS)  # fmt: skip

    wait_for(all_reclaimed, RECLAIM_TIMEOUT, lambda: "Apple: %s\n%s" % (holding(apple), rulebook.output()))
    assert holding(apple) == set()
    # the rule's playbook ran (once for the deployments whose confirmations came together) and ended well
    wait_for(lambda: "PLAY RECAP" in rulebook.output(), RECLAIM_TIMEOUT, rulebook.output)
    assert "failed=0" in rulebook.output() and not re.search(r"failed=[1-9]", rulebook.output())
    assert HMAC_KEY not in rulebook.output() and API_KEY not in rulebook.output()
