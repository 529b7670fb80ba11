# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""vpp_token's notification settings: real ansible-playbook runs against the simulator, whose TEST_NOTIFICATION
goes to a real HTTPS receiver on 127.0.0.1 that checks the Bearer against the store (as mdm.vpp.vpp_events does)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from ansible_collections.mdm.vpp.plugins.module_utils.notification_settings import secret_fingerprint
from tests.integration.notification_helpers import NotificationReceiver
from tests.integration.token_helpers import opened_store, posts, refused, token_task

HQ = "business-hq"
ALL_TYPES = ["ASSET_MANAGEMENT", "ASSET_COUNT", "USER_MANAGEMENT", "USER_ASSOCIATED"]
GIVEN_SECRET = "a-secret-the-administrator-chose-7Qx2"


@pytest.fixture
def receiver(ansible, simulator, tmp_path):
    directory = tmp_path / "receiver-tls"
    directory.mkdir()
    started = NotificationReceiver(ansible.store, directory)
    simulator.configure(notification_ca_file=str(started.ca_file))  # Apple trusts the receiver's certificate
    yield started
    started.close()


def hq(simulator, **options):
    return dict(options, token=simulator.tokens[HQ])


def stored_settings(ansible, name="hq"):
    with opened_store(ansible) as store:
        return store.get_notification_settings(name)


def apple_settings(simulator):
    return simulator.location_state(HQ)["clientConfig"]


def test_a_generated_secret_is_stored_posted_and_reused_and_a_rerun_posts_nothing(ansible, simulator, receiver):
    url = receiver.url("apple", "hq")
    run = ansible.play([token_task("hq", "set", **hq(simulator, notification_url=url))])
    assert run.rc == 0, run.stdout
    first = run.result("set")
    assert len(posts(simulator)) == 2  # the claim, then the notification settings (after the claim's commit)
    simulator.clear_request_log()
    run = ansible.play([token_task("hq", "again", **hq(simulator, notification_url=url))])
    assert run.rc == 0, run.stdout
    again = run.result("again")
    # the rerun reads Apple's client config once (as registering does anyway) and writes nothing
    assert simulator.request_counts() == {("GET", "/mdm/v2/service/config"): 1, ("GET", "/mdm/v2/client/config"): 1}
    assert first["changed"] is True and first["actions"] == ["register", "claim", "notifications"]
    assert again["changed"] is False and again["actions"] == []

    stored = stored_settings(ansible)
    assert stored["url"] == url and stored["types"] == ALL_TYPES and len(stored["secret"]) >= 40
    shown = {"url": url, "types": ALL_TYPES, "auth_token_fingerprint": secret_fingerprint(stored["secret"])}
    assert first["token"]["notifications"] == again["token"]["notifications"] == shown
    # Apple's TEST_NOTIFICATION carried the stored secret: the receiver found it in the store and answered 200
    assert receiver.tests() == [("/apple/hq", 200)]
    assert apple_settings(simulator) == {"notificationUrl": url, "notificationTypes": ALL_TYPES}
    assert [entry["method"] for entry in simulator.request_log()] == ["GET", "GET"]  # the rerun posted nothing
    assert stored["secret"] not in run.stdout + json.dumps(run.results)
    if isinstance(ansible.store, Path):
        assert stored["secret"].encode() not in ansible.store.read_bytes()  # encrypted at rest

    # a later run without the secret reuses the stored one: only the types change, and no TEST_NOTIFICATION
    run = ansible.play([token_task("hq", "fewer types", notification_types=["ASSET_COUNT"])])
    assert run.rc == 0, run.stdout
    assert run.result("fewer types")["actions"] == ["notifications"]
    assert stored_settings(ansible) == dict(stored, types=["ASSET_COUNT"])
    assert apple_settings(simulator)["notificationTypes"] == ["ASSET_COUNT"]
    assert receiver.tests() == [("/apple/hq", 200)] and len(posts(simulator)) == 1


def test_a_run_interrupted_after_the_store_write_is_completed_by_the_next_run(ansible, simulator, receiver):
    run = ansible.play([token_task("hq", "register", **hq(simulator))])
    assert run.rc == 0, run.stdout
    url = receiver.url("apple", "hq")
    with opened_store(ansible) as store:  # where a run stopped between its store write and its POST leaves things
        store.set_notification_settings("hq", url, "secret-written-before-the-crash", ALL_TYPES)
    run = ansible.play([token_task("hq", "rerun", notification_url=url)])
    assert run.rc == 0, run.stdout
    assert run.result("rerun")["actions"] == ["notifications"]
    assert receiver.tests() == [("/apple/hq", 200)]  # posted with the stored secret, which the receiver knows
    assert apple_settings(simulator) == {"notificationUrl": url, "notificationTypes": ALL_TYPES}
    assert stored_settings(ansible)["secret"] == "secret-written-before-the-crash"


def test_a_receiver_that_answers_500_is_a_clear_error_and_keeps_the_previous_settings(ansible, simulator, receiver):
    good, failing = receiver.url("apple", "hq"), receiver.url("fail", "hq")
    run = ansible.play([token_task("hq", "set", **hq(simulator, notification_url=good))])
    assert run.rc == 0, run.stdout
    before_store, before_apple = stored_settings(ansible), apple_settings(simulator)
    posts_before = len(posts(simulator))

    run = ansible.play([refused(token_task("hq", "move", notification_url=failing))])
    assert run.status("move") == "failed"
    message = run.result("move")["msg"]
    assert "could not deliver its TEST_NOTIFICATION to %s" % failing in message
    assert "previous settings are kept" in message and "mdm.vpp.vpp_events" in message
    assert run.result("move")["error_number"] == 9728
    assert stored_settings(ansible) == before_store and apple_settings(simulator) == before_apple
    assert receiver.tests()[-1] == ("/fail/hq", 500) and len(posts(simulator)) == posts_before + 1
    assert before_store["secret"] not in run.stdout + json.dumps(run.results)


def test_check_mode_predicts_writes_and_posts_nothing_and_the_diff_shows_no_secret(ansible, simulator, receiver):
    run = ansible.play([token_task("hq", "register", **hq(simulator))])
    assert run.rc == 0, run.stdout
    posts_before = len(posts(simulator))
    url = receiver.url("apple", "hq")
    options = hq(simulator, notification_url=url, notification_auth_token=GIVEN_SECRET)
    run = ansible.play([token_task("hq", "predict", **options)], check=True, diff=True)
    assert run.rc == 0, run.stdout
    predicted = run.result("predict")
    assert predicted["changed"] is True and predicted["actions"] == ["notifications"]
    fingerprint = secret_fingerprint(GIVEN_SECRET)
    assert predicted["diff"]["before"]["notifications"] is None
    assert predicted["diff"]["after"]["notifications"] == {
        "url": url,
        "types": ALL_TYPES,
        "auth_token_fingerprint": fingerprint,
    }
    assert stored_settings(ansible) == {"url": None, "secret": None, "types": None}
    assert len(posts(simulator)) == posts_before and receiver.received == []
    assert GIVEN_SECRET not in run.stdout + run.stderr + json.dumps(run.results)

    run = ansible.play([token_task("hq", "apply", **options)], diff=True)
    assert run.rc == 0, run.stdout
    assert run.result("apply")["diff"] == predicted["diff"]
    assert stored_settings(ansible)["secret"] == GIVEN_SECRET and receiver.tests() == [("/apple/hq", 200)]
    assert GIVEN_SECRET not in run.stdout + run.stderr + json.dumps(run.results)


def test_settings_changed_at_apple_by_another_tool_are_replaced_and_the_diff_says_so(ansible, simulator, receiver):
    url = receiver.url("apple", "hq")
    run = ansible.play([token_task("hq", "set", **hq(simulator, notification_url=url))])
    assert run.rc == 0, run.stdout
    # another tool points the location elsewhere, with its own secret
    other = receiver.url("open", "other-tool")
    body = {"notificationUrl": other, "notificationAuthToken": "other-tool-secret"}
    body["notificationTypes"] = ["ASSET_COUNT"]
    answer = simulator_post(simulator, "/client/config", body)
    assert answer["notificationUrl"] == other

    run = ansible.play([token_task("hq", "again", notification_url=url)], diff=True)
    assert run.rc == 0, run.stdout
    again = run.result("again")
    assert again["changed"] is True and again["actions"] == ["notifications"]
    assert again["diff"]["before"]["notifications_at_apple"] == {
        "url": other,
        "types": ["ASSET_COUNT"],
        "auth_token_fingerprint": secret_fingerprint("other-tool-secret"),
    }
    assert any("another tool changed them" in warning for warning in again.get("warnings", []))
    assert apple_settings(simulator) == {"notificationUrl": url, "notificationTypes": ALL_TYPES}
    assert receiver.tests()[-1] == ("/apple/hq", 200)


def test_empty_types_switch_notifications_off_without_a_test_notification(ansible, simulator, receiver):
    url = receiver.url("apple", "hq")
    run = ansible.play(
        [
            token_task("hq", "set", **hq(simulator, notification_url=url)),
            token_task("hq", "off", notification_types=[]),
            token_task("hq", "off again", notification_types=[]),
        ]
    )
    assert run.rc == 0, run.stdout
    assert run.result("off")["actions"] == ["notifications"] and run.result("off again")["changed"] is False
    assert apple_settings(simulator) == {"notificationUrl": url, "notificationTypes": []}
    assert stored_settings(ansible)["types"] == [] and len(receiver.tests()) == 1


def test_bad_settings_are_refused_before_any_request_or_write(ansible, simulator, receiver):
    run = ansible.play([token_task("hq", "register", **hq(simulator))])
    assert run.rc == 0, run.stdout
    simulator.clear_request_log()
    run = ansible.play(
        [
            refused(token_task("hq", "http", notification_url="http://127.0.0.1:9/apple")),
            refused(token_task("hq", "query", notification_url=receiver.url("apple", "hq") + "?x=1")),
        ]
    )
    assert "HTTPS only" in run.result("http")["msg"] and "no query" in run.result("query")["msg"]
    assert simulator.request_log() == []  # refused before any request
    unknown = token_task("hq", "unknown", notification_url=receiver.url("apple", "hq"), notification_types=["NOPE"])
    run = ansible.play([refused(unknown)])
    assert "does not offer 'NOPE'" in run.result("unknown")["msg"]
    assert posts(simulator) == [] and receiver.received == []
    assert stored_settings(ansible) == {"url": None, "secret": None, "types": None}


def test_vpp_token_info_shows_the_stored_settings_and_apples_when_checking(ansible, simulator, receiver):
    url = receiver.url("apple", "hq")
    run = ansible.play(
        [
            token_task("hq", "set", **hq(simulator, notification_url=url, notification_auth_token=GIVEN_SECRET)),
            {"name": "info", "mdm.vpp.vpp_token_info": {}},
            {"name": "checked", "mdm.vpp.vpp_token_info": {"check": True}},
        ]
    )
    assert run.rc == 0, run.stdout
    shown = {"url": url, "types": ALL_TYPES, "auth_token_fingerprint": secret_fingerprint(GIVEN_SECRET)}
    assert run.result("info")["tokens"][0]["notifications"] == shown
    checked = run.result("checked")["tokens"][0]
    assert checked["notifications"] == shown and checked["notifications_at_apple"] == shown
    assert GIVEN_SECRET not in run.stdout + json.dumps(run.results)


def simulator_post(simulator, path, body):
    """A request to the simulator with the location's content token, as another tool would send it."""
    answer = requests.post(
        simulator.url + path,
        json=body,
        headers={"Authorization": "Bearer " + simulator.tokens[HQ]},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()
