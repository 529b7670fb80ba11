# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Store contract: Apple's notifications applied once per token, the counts they move, the members of the event
they finish, and an outcome kept for the run that records its event (every backend)."""

from __future__ import annotations

import pytest

PAGES = "1000000001"


@pytest.fixture
def synced(registered):
    """``school`` with Pages synced (10 licenses, 4 free), a free app, and a deployment waiting on event ``e1``."""
    asset = {"pricing_param": "STDQ", "product_type": "App", "device_assignable": True, "revocable": True}
    registered.replace_assets("school", [
        dict(asset, adam_id=PAGES, total_count=10, assigned_count=6, available_count=4),
        dict(asset, adam_id="1000000009", unlimited=True, total_count=2147483647, assigned_count=1,
             available_count=2147483646),
    ])  # fmt: skip
    registered.upsert_application("pages", token="school", adam_id=PAGES)
    registered.upsert_deployment("ipads", application="pages", collection_name="ipads", collection_type="device",
                                 action="install", purpose="required", license_type="device")  # fmt: skip
    registered.record_event("school", "e1", "ASSOCIATE", deployment="ipads")
    registered.upsert_members("ipads", [
        {"member_id": serial, "license_type": "device", "state": "pending", "event_id": "e1"} for serial in ("B", "A")
    ] + [{"member_id": "OTHER", "license_type": "device", "state": "pending", "event_id": "e0"}])  # fmt: skip
    return registered


def test_a_notification_is_claimed_once_per_token(synced, content_token):
    synced.upsert_token("school-two", content_token(secret="other"), uid="9000000000000001")
    assert synced.claim_notification("school", "n1", "ASSET_COUNT") is True
    assert synced.claim_notification("school", "n1", "ASSET_COUNT") is False
    assert synced.claim_notification("school-two", "n1", "ASSET_COUNT") is True  # another token's notification
    assert (synced.count_notifications("school"), synced.count_notifications()) == (1, 2)
    assert synced.has_notifications("school") is True and synced.has_notifications("nobody") is False


def test_a_claim_rolled_back_with_its_transaction_can_be_claimed_again(synced):
    assert synced.has_notifications("school") is False
    with pytest.raises(RuntimeError), synced.transaction():
        assert synced.claim_notification("school", "n1", "ASSET_MANAGEMENT", "e1") is True
        raise RuntimeError("the notification could not be applied")
    assert synced.has_notifications("school") is False
    assert synced.claim_notification("school", "n1", "ASSET_MANAGEMENT", "e1") is True


def test_a_count_delta_moves_total_and_available_and_creates_no_asset(synced):
    before, after = synced.change_asset_total("school", PAGES, "STDQ", -5)
    assert (before["total_count"], before["available_count"]) == (10, 4)
    assert (after["total_count"], after["assigned_count"], after["available_count"]) == (5, 6, 0)  # never below 0
    assert synced.change_asset_total("school", "4242", "STDQ", 3) is None
    assert synced.get_asset("school", "4242") is None
    unlimited = synced.change_asset_total("school", "1000000009", "STDQ", 3)[1]
    assert unlimited["total_count"] == 2147483647


def test_the_members_of_an_event_come_sorted_with_their_deployment(synced):
    members = synced.event_members("school", "e1")
    assert [(row["deployment"], row["member_id"], row["state"]) for row in members] == [
        ("ipads", "A", "pending"),
        ("ipads", "B", "pending"),
    ]
    assert members[0]["adam_id"] == PAGES and members[0]["collection_type"] == "device"
    assert synced.event_members("school", "unknown") == []
    assert synced.event_members("nobody", "e1") == []


def test_a_kept_notification_is_released_once(synced):
    synced.claim_notification("school", "n1", "ASSET_MANAGEMENT", "e9")
    synced.keep_notification("school", "n1", {"event_id": "e9", "assignments": [{"serial_number": "A"}]})
    assert synced.notifications_kept("school", ["e9", "e1"]) == [
        ("n1", {"event_id": "e9", "assignments": [{"serial_number": "A"}]})
    ]
    assert synced.release_notification("school", "n1") is True
    assert synced.release_notification("school", "n1") is False
    assert synced.notifications_kept("school", ["e9"]) == []


def test_finished_events_are_those_complete_or_failed(synced):
    synced.record_event("school", "e2", "ASSOCIATE", deployment="ipads")
    synced.update_event("school", "e2", "FAILED", result={"failures": []})
    assert list(synced.finished_events("school", ["e1", "e2", "nope"])) == ["e2"]


PAST = "2000-01-01T00:00:00+00:00"
FUTURE = "2999-01-01T00:00:00+00:00"


def test_old_notifications_are_forgotten_but_each_tokens_newest(synced, content_token):
    synced.upsert_token("school-two", content_token(secret="other"), uid="9000000000000001")
    for notification_id in ("n1", "n2", "n3"):
        synced.claim_notification("school", notification_id, "ASSET_COUNT")
    synced.claim_notification("school-two", "m1", "ASSET_COUNT")
    assert synced.forget_notifications(PAST) == 0
    assert synced.forget_notifications(FUTURE) == 2  # n1 and n2; n3 and m1 are their tokens' newest
    assert synced.claim_notification("school", "n3", "ASSET_COUNT") is False  # still remembered
    assert synced.claim_notification("school", "n1", "ASSET_COUNT") is True  # forgotten: applied again
    assert synced.has_notifications("school") is True and synced.has_notifications("school-two") is True


def test_old_device_answers_are_forgotten(synced):
    def untouched(_row):
        return None

    assert synced.record_mdm_answer("cmd-1", "enrollment-1", "Acknowledged", untouched)["duplicate"] is False
    assert synced.forget_mdm_answers(PAST) == 0
    assert synced.record_mdm_answer("cmd-1", "enrollment-1", "Acknowledged", untouched)["duplicate"] is True
    assert synced.forget_mdm_answers(FUTURE) == 1
    assert synced.record_mdm_answer("cmd-1", "enrollment-1", "Acknowledged", untouched)["duplicate"] is False


def test_rows_are_deleted_a_batch_at_a_time_until_none_match(synced):
    for number in range(5):
        synced.claim_notification("school", "n%d" % number, "ASSET_COUNT")
    synced.claim_notification("school", "u1", "USER_MANAGEMENT")
    assert synced.db.delete_in_batches("apple_notifications", "notification_type = ?", ("ASSET_COUNT",), batch=2) == 5
    assert synced.count_notifications() == 1
