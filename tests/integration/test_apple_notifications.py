# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apple's notifications end to end: the simulator's notifier posts real notifications over HTTPS (a private CA)
to the real ``vpp_events`` source (its ``main()`` in a thread), which records them in the store the real
``ansible-playbook`` runs use; deployments then take their outcomes from the store instead of polling Apple."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.timestamps import to_timestamp
from tests.integration.deployment_helpers import (
    HQ,
    PAGES,
    TOKEN,
    deploy,
    deployment_runner,
    deployment_scenario,
    played,
    posts,
    setup_tasks,
)
from tests.integration.mdm_helpers import EventSource, info_task, members_of
from tests.integration.token_helpers import opened_store, token_task
from tests.tls_helpers import write_certificates

SECRET = "apple-notification-secret-5d1e77"
APPLE_PATH = "/apple/notifications"
TYPES = ["ASSET_MANAGEMENT", "ASSET_COUNT", "USER_MANAGEMENT", "USER_ASSOCIATED"]
SERIALS = ["NOTIFIED0001", "NOTIFIED0002", "NOTIFIED0003"]
SETTLE = 15.0  # seconds for a notification to reach the store


@pytest.fixture
def stack(tmp_path, collections_path, simulator_factory):
    """The simulator notifying over HTTPS (a private CA), hq registered, synced and Pages created, vpp_events
    listening, then hq's notification settings made by ``mdm.vpp.vpp_token`` (Apple's TEST_NOTIFICATION answered
    by the source)."""
    ca_bundle, cert, key = write_certificates(tmp_path)
    scenario = deployment_scenario()
    scenario["settings"]["notification_ca_file"] = str(ca_bundle)
    sim = simulator_factory(scenario)
    runner = deployment_runner(tmp_path, collections_path, sim)
    played(runner, setup_tasks(sim))
    source = EventSource(runner.store)
    source.args.update(certfile=str(cert), keyfile=str(key), apple_path=APPLE_PATH)
    source.start()
    url = "https://127.0.0.1:%d%s" % (source.port, APPLE_PATH)
    settings = token_task(TOKEN, "notifications", notification_url=url, notification_auth_token=SECRET,
                          notification_types=TYPES)  # fmt: skip
    assert played(runner, [settings]).result("notifications")["changed"] is True
    assert [event for event in source.events if event["vpp"]["kind"] != "mdm_answer"] == []  # the test: no event
    yield sim, runner, source
    source.stop()


def settled(check, what):
    """Wait (bounded) until ``check()`` is true: the notifier posts from its own thread."""
    deadline = time.monotonic() + SETTLE
    while not check():
        assert time.monotonic() < deadline, "not within %ss: %s" % (SETTLE, what)
        time.sleep(0.05)


def queued(source, kind):
    return [event["vpp"] for event in source.events if event["vpp"]["kind"] == kind]


def status_reads(sim):
    return [entry for entry in sim.request_log(HQ) if entry["method"] == "GET" and entry["path"].endswith("/status")]


def test_a_deployment_without_waiting_becomes_licensed_from_the_notification_alone(stack):
    sim, runner, source = stack
    first = played(runner, [deploy("deploy", "ipads", "device", SERIALS, wait=False)]).result("deploy")
    assert first["licensed"] == [] and len(first["pending_event_ids"]) == 1
    # the source queues its event once the outcome is recorded
    settled(lambda: [e["event_status"] for e in queued(source, "license_outcome")] == ["COMPLETE"], "recorded")
    outcome = queued(source, "license_outcome")[0]
    assert outcome["event_id"] == first["pending_event_ids"][0]
    assert outcome["deployments"][0]["name"] == "ipads" and outcome["deployments"][0]["members_count"] == 3
    assert SECRET not in repr(source.events)
    run = played(runner, [info_task("info", "ipads"), deploy("again", "ipads", "device", SERIALS, wait=False)])
    assert {member_id: member["state"] for member_id, member in members_of(run, "info").items()} == dict.fromkeys(
        SERIALS, "licensed"
    )
    assert run.result("again")["changed"] is False
    assert len(posts(sim, "/assets/associate")) == 1  # the rerun sends nothing again
    assert status_reads(sim) == []  # nor reads any status


def test_a_waiting_deployment_completes_from_notifications_with_no_status_read(stack):
    sim, runner, _source = stack
    run = played(runner, [deploy("deploy", "ipads", "device", SERIALS, wait=True, wait_timeout=60)])
    result = run.result("deploy")
    assert sorted(result["licensed"]) == sorted(SERIALS)
    assert result["pending_event_ids"] == []
    assert status_reads(sim) == []


def test_a_purchase_changes_the_counts_vpp_app_info_shows(stack):
    sim, runner, source = stack
    before = played(runner, [{"name": "info", "mdm.vpp.vpp_app_info": {"tokens": [TOKEN], "adam_id": PAGES}}])
    counts = before.result("info")["apps"][0]
    sim.purchase(HQ, PAGES, 7)
    settled(lambda: queued(source, "license_count"), "ASSET_COUNT recorded")
    after = played(runner, [{"name": "info", "mdm.vpp.vpp_app_info": {"tokens": [TOKEN], "adam_id": PAGES}}])
    app = after.result("info")["apps"][0]
    assert app["total"] == counts["total"] + 7
    assert app["available"] == counts["available"] + 7
    event = queued(source, "license_count")[0]
    assert event["delta"] == 7 and event["counts"]["total"] == app["total"]


def test_without_a_notification_the_status_is_read_only_after_apples_five_minutes(stack):
    sim, runner, source = stack
    sim.settings["drop_notifications"] = True  # Apple's notifications are best effort
    first = played(runner, [deploy("deploy", "ipads", "device", SERIALS, wait=False)]).result("deploy")
    [event_id] = first["pending_event_ids"]
    again = played(runner, [deploy("again", "ipads", "device", SERIALS, wait=False)]).result("again")
    assert again["licensed"] == [] and len(posts(sim, "/assets/associate")) == 1  # still pending, not sent again
    assert status_reads(sim) == []  # submitted a moment ago: a notification may still come
    source.stop()  # the store is opened below in this process (a second Store of one SQLite file in a process
    # can break the first one's locks: the source's thread would see "disk I/O error")
    with opened_store(runner) as store:  # as if submitted 6 minutes ago
        store.db.execute(
            "UPDATE events SET submitted_at = ? WHERE event_id = ?",
            (to_timestamp(datetime.now(timezone.utc) - timedelta(minutes=6)), event_id),
        )
    late = played(runner, [deploy("late", "ipads", "device", SERIALS, wait=False)]).result("late")
    assert sorted(late["licensed"]) == sorted(SERIALS)
    assert len(status_reads(sim)) == 1
    assert len(posts(sim, "/assets/associate")) == 1
