# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""End to end under a real ansible-rulebook (``make eda``): ``extensions/eda/rulebooks/vpp_changes.yml`` whose
poller ``mdm.vpp.vpp_changes`` syncs the Apple simulator's licenses into a store registered by real
``ansible-playbook`` runs. A refund makes Pages low: the rule writes the license report and POSTs one message to a
webhook receiver on 127.0.0.1; a revoked token gives another message."""

from __future__ import annotations

import json

import pytest

from tests.eda.rulebooks import Rulebook, wait_for
from tests.integration.conftest import Ansible
from tests.integration.deployment_helpers import HQ, PAGES, deployment_scenario, setup_tasks
from tests.simulator.testing import Receiver

RULEBOOK = "extensions/eda/rulebooks/vpp_changes.yml"
RULE_TIMEOUT = 120  # seconds for ansible-rulebook to start, look, and run the rule's playbook
CLIENT_CONFIG = ("GET", "/mdm/v2/client/config")
HOOK_SECRET = "T0-secret-part-of-the-chat-webhook"  # chat webhook URLs carry their secret in the path


@pytest.fixture
def apple(simulator_factory):
    return simulator_factory(deployment_scenario())


@pytest.fixture
def receiver():
    started = Receiver()
    yield started
    started.close()


def looks(apple):
    """How many times the token was looked at (a revoked token's requests belong to no location)."""
    return apple.request_counts().get(CLIENT_CONFIG, 0)


def test_an_app_running_low_and_a_revoked_token_are_messaged(tmp_path, collections_path, apple, receiver):
    runner = Ansible(tmp_path, collections_path, apple.url)
    run = runner.play(setup_tasks(apple))
    assert run.rc == 0, run.stdout + run.stderr
    report_dir = tmp_path / "report"
    hook = receiver.url + "/" + HOOK_SECRET
    variables = {"vpp_changes_interval": 1, "vpp_message_url": hook, "vpp_low_report_dir": str(report_dir)}
    rulebook = Rulebook(RULEBOOK, tmp_path, collections_path, runner.env, variables).start()
    try:
        # the poller looked twice: the store is as Apple is (Keynote, 3 licenses, was low already: no message)
        synced = looks(apple)
        wait_for(lambda: rulebook.check_running() or looks(apple) >= synced + 2, RULE_TIMEOUT, rulebook.output)
        assert receiver.payloads() == []

        apple.purchase(HQ, PAGES, -44)  # 6 licenses, 2 assigned: 4 left, at most 5 is low
        wait_for(lambda: len(receiver.received) >= 1, RULE_TIMEOUT, rulebook.output)
        (message,) = receiver.payloads()
        assert "Pages is low on licenses (token hq): 4 of 6 left" in message["text"], message
        assert "Keynote" not in message["text"]
        report = json.loads((report_dir / "vpp-licenses.json").read_text())
        assert "Pages" in json.dumps(report)

        apple.revoke_token(HQ)
        wait_for(lambda: len(receiver.received) >= 2, RULE_TIMEOUT, rulebook.output)
        assert "token hq is revoked (was valid)" in receiver.payloads()[1]["text"]
        # a further look: still low, still revoked, nothing new to say
        revoked_looks = looks(apple)
        wait_for(lambda: looks(apple) >= revoked_looks + 2, RULE_TIMEOUT, rulebook.output)
        assert len(receiver.received) == 2
    finally:
        rulebook.stop()
    output = rulebook.output()
    assert "failed=0" in output and HOOK_SECRET not in output
    for token in apple.tokens.values():
        assert token not in output and token not in json.dumps(receiver.received)
