# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Webhook notifications (reference §11, §16.10)."""

from __future__ import annotations

KEYNOTE = {"adamId": "1000000002", "pricingParam": "STDQ"}
FREE = {"adamId": "1000000009"}


def drain(sim, receiver, notification_type):
    assert sim.wait_notifications(timeout=10)
    return receiver.payloads(notification_type)


def test_asset_management_success_notification(subscribed, quiet_sim, receiver):
    status = subscribed.run_event("/assets/associate", {"assets": [KEYNOTE], "clientUserIds": ["u-1"]})
    [notification] = drain(quiet_sim, receiver, "ASSET_MANAGEMENT")
    assert notification["uId"] == "9000000000000001" and notification["notificationId"]
    body = notification["notification"]
    assert (body["type"], body["result"]) == ("ASSOCIATE", "SUCCESS") and "error" not in body
    assert body["assignments"] == [{"adamId": "1000000002", "pricingParam": "STDQ", "clientUserId": "u-1"}]
    assert status["eventStatus"] == "COMPLETE"
    assert all(item["authorization"] == "Bearer hook-secret" for item in receiver.received)


def test_large_results_are_split_into_chunks_of_at_most_100(subscribed, quiet_sim, receiver):
    serials = ["S%03d" % number for number in range(150)]
    event_id = subscribed.ok("POST", "/assets/associate", {"assets": [FREE], "serialNumbers": serials})["eventId"]
    quiet_sim.complete_events()
    notifications = drain(quiet_sim, receiver, "ASSET_MANAGEMENT")
    sizes = sorted(len(item["notification"]["assignments"]) for item in notifications)
    assert sizes == [50, 100]
    assert {item["notification"]["eventId"] for item in notifications} == {event_id}
    assert len({item["notificationId"] for item in notifications}) == 2


def test_successes_and_failures_arrive_separately_with_one_error_each(subscribed, quiet_sim, receiver):
    quiet_sim.configure(unknown_user_error="async", mixed_targets="accept")  # one event with 9609 and 9709
    body = {"assets": [KEYNOTE], "clientUserIds": ["ghost"], "serialNumbers": ["S1", "S2", "S3", "S4"]}
    subscribed.run_event("/assets/associate", body)
    notifications = drain(quiet_sim, receiver, "ASSET_MANAGEMENT")
    by_result = {}
    for item in notifications:
        by_result.setdefault(item["notification"]["result"], []).append(item["notification"])
    assert len(by_result["SUCCESS"]) == 1 and len(by_result["SUCCESS"][0]["assignments"]) == 3
    errors = sorted(item["error"]["errorNumber"] for item in by_result["FAILURE"])
    assert errors == [9609, 9709]
    assert all(isinstance(item["error"], dict) for item in by_result["FAILURE"])


def test_user_management_notification(subscribed, quiet_sim, receiver):
    subscribed.run_event("/users/create", {"users": [{"clientUserId": "n-1", "email": "n1@example.org"}]})
    [notification] = drain(quiet_sim, receiver, "USER_MANAGEMENT")
    body = notification["notification"]
    assert (body["type"], body["result"]) == ("CREATE", "SUCCESS")
    assert body["users"][0]["clientUserId"] == "n-1" and body["users"][0]["status"] == "Registered"


def test_asset_count_on_purchase_refund_and_transfer(subscribed, quiet_sim, receiver):
    quiet_sim.purchase("business-hq", "1000000002", 4)
    quiet_sim.purchase("business-hq", "1000000002", -1)
    quiet_sim.transfer("business-hq", "school-east", "1000000002", 2)
    deltas = [item["notification"] for item in drain(quiet_sim, receiver, "ASSET_COUNT")]
    assert [delta["countDelta"] for delta in deltas] == [4, -1, -2]
    assert deltas[0] == {"adamId": "1000000002", "pricingParam": "STDQ", "countDelta": 4}


def test_only_subscribed_types_are_sent(quiet_hq, quiet_sim, receiver):
    quiet_hq.ok(
        "POST",
        "/client/config",
        {"notificationUrl": receiver.url, "notificationAuthToken": "s", "notificationTypes": ["USER_MANAGEMENT"]},
    )
    quiet_sim.purchase("business-hq", "1000000002", 1)
    quiet_hq.run_event("/assets/associate", {"assets": [KEYNOTE], "clientUserIds": ["u-1"]})
    quiet_hq.run_event("/users/create", {"users": [{"clientUserId": "n-1"}]})
    assert [item["notificationType"] for item in drain(quiet_sim, receiver, None)] == [
        "TEST_NOTIFICATION",
        "USER_MANAGEMENT",
    ]


def test_failed_delivery_is_retried_up_to_three_times(subscribed, quiet_sim, receiver):
    receiver.statuses = [500, 503, 500, 500]
    quiet_sim.purchase("business-hq", "1000000002", 1)
    attempts = drain(quiet_sim, receiver, "ASSET_COUNT")
    assert len(attempts) == 3 and len({item["notificationId"] for item in attempts}) == 1
    [record] = [
        item for item in quiet_sim.notifications("business-hq") if item["payload"]["notificationType"] == "ASSET_COUNT"
    ]
    assert (record["attempts"], record["status"]) == (3, 500)


def test_retry_stops_after_a_success(subscribed, quiet_sim, receiver):
    receiver.statuses = [500]
    quiet_sim.purchase("business-hq", "1000000002", 1)
    assert len(drain(quiet_sim, receiver, "ASSET_COUNT")) == 2


def test_duplicate_delivery_setting(subscribed, quiet_sim, receiver):
    quiet_sim.configure(duplicate_notifications=True)
    quiet_sim.purchase("business-hq", "1000000002", 1)
    copies = drain(quiet_sim, receiver, "ASSET_COUNT")
    assert len(copies) == 2 and copies[0]["notificationId"] == copies[1]["notificationId"]


def test_drop_setting_suppresses_delivery(subscribed, quiet_sim, receiver):
    quiet_sim.configure(drop_notifications=True)
    quiet_sim.purchase("business-hq", "1000000002", 1)
    assert drain(quiet_sim, receiver, "ASSET_COUNT") == []
