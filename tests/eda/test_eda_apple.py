# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""End to end under a real ansible-rulebook (``make eda``): ``extensions/eda/rulebooks/apple_notifications.yml``
whose source ``mdm.vpp.vpp_events`` serves HTTPS (a private CA the simulator trusts). The Apple simulator's notifier
posts a real ASSET_COUNT for a purchase; the rule runs ``sync_token.yml``, whose sync brings in what the
notification does not carry (a license someone else assigned). A notification with a wrong Bearer changes
nothing."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.eda.rulebooks import Rulebook, free_port, wait_for
from tests.integration.deployment_helpers import (
    HQ,
    PAGES,
    TOKEN,
    deployment_runner,
    deployment_scenario,
    played,
    setup_tasks,
)
from tests.integration.token_helpers import opened_store, token_task
from tests.simulator.testing import Api
from tests.tls_helpers import write_certificates

RULEBOOK = "extensions/eda/rulebooks/apple_notifications.yml"
SECRET = "apple-notification-secret-of-the-rulebook-test"
APPLE_PATH = "/apple/notifications"
UID = "9000000000000001"  # business-hq's uId (small.yml)
SERIAL = "ELSEWHERE0001"  # a device someone else licensed at Apple
RULE_TIMEOUT = 120  # seconds for the notification, the rule's throttle window and its playbook


@pytest.fixture
def stack(tmp_path, collections_path, simulator_factory):
    ca_bundle, cert, key = write_certificates(tmp_path)
    scenario = deployment_scenario()
    scenario["settings"]["notification_ca_file"] = str(ca_bundle)
    sim = simulator_factory(scenario)
    runner = deployment_runner(tmp_path, collections_path, sim)
    played(runner, setup_tasks(sim))
    port = free_port()
    url = "https://127.0.0.1:%d%s" % (port, APPLE_PATH)
    variables = {"vpp_events_port": port, "vpp_events_certfile": str(cert), "vpp_events_keyfile": str(key)}
    rulebook = Rulebook(RULEBOOK, tmp_path, collections_path, runner.env, variables).start(port)
    try:
        # Apple tests the URL at once (TEST_NOTIFICATION): the rulebook's source answers it
        settings = token_task(TOKEN, "notifications", notification_url=url, notification_auth_token=SECRET,
                              notification_types=["ASSET_COUNT"])  # fmt: skip
        assert played(runner, [settings]).result("notifications")["changed"] is True
        yield sim, runner, rulebook, url, ca_bundle
    finally:
        rulebook.stop()


def stored(runner):
    """(Pages' total in the store, the holders of its licenses the store knows)."""
    with opened_store(runner) as store:
        holders = {row["target_id"] for row in store.iter_assignments(TOKEN, PAGES)}
        return store.get_asset(TOKEN, PAGES)["total_count"], holders


def test_a_purchase_notified_by_apple_syncs_the_token_and_a_wrong_bearer_changes_nothing(stack):
    sim, runner, rulebook, url, ca_bundle = stack
    total, holders = stored(runner)
    Api(sim, sim.tokens[HQ]).run_event("/assets/associate", {"assets": [{"adamId": PAGES}], "serialNumbers": [SERIAL]})
    forged = {"notificationId": str(uuid.uuid4()), "notificationType": "ASSET_COUNT", "uId": UID,
              "notification": {"adamId": PAGES, "pricingParam": "STDQ", "countDelta": 1000}}  # fmt: skip
    answer = requests.post(url, json=forged, headers={"Authorization": "Bearer not-the-secret"}, verify=str(ca_bundle),
                           timeout=10)  # fmt: skip
    assert answer.status_code == 401

    sim.purchase(HQ, PAGES, 7)
    wait_for(lambda: SERIAL in stored(runner)[1], RULE_TIMEOUT, rulebook.output)
    assert stored(runner) == (total + 7, holders | {SERIAL})  # the forged +1000 was never recorded
    wait_for(lambda: "PLAY RECAP" in rulebook.output(), RULE_TIMEOUT, rulebook.output)
    output = rulebook.output()
    assert output.count("PLAY RECAP") == 1 and "failed=0" in output
    delivered = sim.notifications(HQ)
    assert {item["payload"]["notificationType"] for item in delivered} >= {"ASSET_COUNT"}
    assert SECRET not in output
    for token in sim.tokens.values():
        assert token not in output
