# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The event source ``mdm.vpp.vpp_events``: Apple's notifications (reference §11) POSTed over HTTP to
``main(queue, args)`` on 127.0.0.1, recorded in a real SQLite store holding a token with a notification secret,
its synced app and a deployment waiting on an associate event."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid

import aiohttp
import pytest
import pytest_asyncio

from ansible_collections.mdm.vpp.extensions.eda.plugins.event_source import vpp_events
from ansible_collections.mdm.vpp.plugins.module_utils.license_outcomes import replay_notifications
from ansible_collections.mdm.vpp.plugins.module_utils.store import open_store
from tests.unit.eda.conftest import PAGES, STORE_KEY, content_token

pytestmark = pytest.mark.asyncio

UID = "9000000000000001"
SECRET = "apple-bearer-secret-of-hq-7f3a9c"
OTHER_SECRET = "apple-bearer-secret-of-hq-two-1b2c"
EVENT = "c1a0e7f4-9b2d-4d6e-8f11-5a4b3c2d1e0f"
SERIALS = ("SERIALA0001", "SERIALB0002", "SERIALC0003")
APPLE_PATH = "/apple/notifications"


@pytest.fixture
def apple_store(store_path):
    """The event source tests' store, plus: token ``hq`` with a notification secret, a second token ``hq-two`` of
    the same location with another, Pages synced (10 licenses, 4 available), and deployment ``pages-ipads`` whose
    three devices wait on associate event EVENT."""
    store = open_store(store_path, key=STORE_KEY)
    try:
        store.set_notification_settings("hq", "https://events.example.org" + APPLE_PATH, SECRET, ["ASSET_COUNT"])
        store.upsert_token("hq-two", content_token(), uid=UID, token_type="business")
        store.set_notification_settings("hq-two", "https://events.example.org" + APPLE_PATH, OTHER_SECRET, [])
        store.replace_assets("hq", [{"adam_id": PAGES, "pricing_param": "STDQ", "product_type": "App",
                                     "total_count": 10, "assigned_count": 6, "available_count": 4,
                                     "device_assignable": True, "revocable": True}])  # fmt: skip
        store.put_metadata([{"adam_id": PAGES, "name": "Pages"}])
        store.upsert_deployment("pages-ipads", application="pages", collection_name="ipads", collection_type="device",
                                action="install", purpose="required", license_type="device")  # fmt: skip
        store.record_event("hq", EVENT, "ASSOCIATE", deployment="pages-ipads",
                           request={"assets": [{"adamId": PAGES, "pricingParam": "STDQ"}],
                                    "serial_numbers": list(SERIALS)})  # fmt: skip
        store.upsert_members("pages-ipads", [
            {"member_id": serial, "license_type": "device", "state": "pending", "event_id": EVENT} for serial in SERIALS
        ])  # fmt: skip
    finally:
        store.close()
    return store_path


class Reader:
    """What the store holds after the posts."""

    def __init__(self, path):
        self.store = open_store(path, key=STORE_KEY, create=False)

    def counts(self):
        asset = self.store.get_asset("hq", PAGES)
        return asset["total_count"], asset["assigned_count"], asset["available_count"]

    def members(self):
        return {row["member_id"]: (row["state"], row["error_number"]) for row in self.store.list_members("pages-ipads")}

    def holders(self):
        return sorted(row["target_id"] for row in self.store.iter_assignments("hq", PAGES))

    def close(self):
        self.store.close()


@pytest.fixture
def reader(apple_store):
    found = Reader(apple_store)
    yield found
    found.close()


@pytest_asyncio.fixture
async def apple(source_factory, apple_store):
    return await source_factory(store=apple_store, store_key=STORE_KEY, low_threshold=3)


def envelope(notification_type, notification, notification_id=None, uid=UID):
    return {
        "notificationId": notification_id or str(uuid.uuid4()),
        "notificationType": notification_type,
        "notification": notification,
        "uId": uid,
    }


def asset_management(serials, result="SUCCESS", error=None, event_id=EVENT, event_type="ASSOCIATE"):
    body = {
        "eventId": event_id,
        "type": event_type,
        "result": result,
        "assignments": [{"adamId": PAGES, "pricingParam": "STDQ", "serialNumber": serial} for serial in serials],
    }
    if error:
        body["error"] = error
    return envelope("ASSET_MANAGEMENT", body)


async def post(source, document, secret=SECRET, raw=None, authorization=None):
    """POST to the source's Apple path; returns the HTTP status."""
    url = "http://127.0.0.1:%d%s" % (source.args["port"], APPLE_PATH)
    headers = {"Content-Type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization
    elif secret is not None:
        headers["Authorization"] = "Bearer " + secret
    data = raw if raw is not None else json.dumps(document).encode()
    async with aiohttp.ClientSession() as session, session.post(url, data=data, headers=headers) as response:
        return response.status


async def test_test_notification_is_answered_200_and_queues_nothing(apple, reader):
    assert await post(apple, envelope("TEST_NOTIFICATION", {})) == 200
    await asyncio.sleep(0)
    assert apple.drain() == []
    assert reader.store.count_notifications("hq") == 1


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-secret", "Basic " + SECRET, "Bearer", "Bearer " + SECRET[:-1], "bearer  " + SECRET + "x"],
    ids=["missing", "wrong", "not-bearer", "empty", "prefix", "suffix"],
)
async def test_a_wrong_or_missing_bearer_is_refused_with_401_and_changes_nothing(apple, reader, authorization, caplog):
    document = envelope("ASSET_COUNT", {"adamId": PAGES, "pricingParam": "STDQ", "countDelta": 5})
    with caplog.at_level(logging.WARNING, logger="mdm.vpp.vpp_events"):
        status = await post(apple, document, secret=None, authorization=authorization or "")
    assert status == 401
    assert "Bearer" in caplog.text and SECRET not in caplog.text
    assert reader.counts() == (10, 6, 4)
    assert reader.store.count_notifications() == 0
    assert apple.drain() == []


async def test_the_secret_of_a_token_of_another_location_is_refused(apple, reader):
    document = envelope("ASSET_COUNT", {"adamId": PAGES, "countDelta": 5}, uid="9000000000000999")
    assert await post(apple, document) == 401
    assert reader.counts() == (10, 6, 4)


async def test_the_token_is_the_one_of_the_location_whose_secret_matches(apple, reader):
    document = envelope("ASSET_COUNT", {"adamId": PAGES, "pricingParam": "STDQ", "countDelta": 2})
    assert await post(apple, document, secret=OTHER_SECRET) == 200
    event = await apple.next_event()
    assert event["vpp"]["token"] == "hq-two"
    assert event["vpp"]["known"] is False  # hq-two has not synced Pages: nothing is created
    assert event["vpp"]["app"] == {"adam_id": PAGES, "pricing_param": "STDQ", "name": None}
    assert reader.counts() == (10, 6, 4)  # hq's counts are not hq-two's
    assert reader.store.count_notifications("hq-two") == 1


async def test_asset_count_moves_total_and_available_and_says_low(apple, reader):
    document = envelope("ASSET_COUNT", {"adamId": PAGES, "pricingParam": "STDQ", "countDelta": -2})
    assert await post(apple, document) == 200
    event = (await apple.next_event())["vpp"]
    assert reader.counts() == (8, 6, 2)
    assert event["kind"] == "license_count" and event["source"] == "apple_notification"
    assert event["counts_before"] == {"total": 10, "assigned": 6, "available": 4}
    assert event["counts"] == {"total": 8, "assigned": 6, "available": 2}
    assert (event["delta"], event["low"], event["became_low"], event["low_threshold"]) == (-2, True, True, 3)
    assert event["app"]["name"] == "Pages"
    audit = list(reader.store.iter_audit(token="hq", kind="asset_count_changed"))
    assert (audit[-1]["origin"], audit[-1]["after"]["total_count"]) == ("apple", 8)


async def test_an_unknown_app_creates_nothing_and_says_so(apple, reader):
    document = envelope("ASSET_COUNT", {"adamId": "4242424242", "countDelta": 7})
    assert await post(apple, document) == 200
    event = (await apple.next_event())["vpp"]
    assert event["app"] == {"adam_id": "4242424242", "pricing_param": "STDQ", "name": None}
    assert event["known"] is False and event["counts"] is None and "next sync" in event["note"]
    assert reader.store.get_asset("hq", "4242424242") is None


async def test_a_duplicate_is_applied_once_and_answered_200(apple, reader):
    document = envelope("ASSET_COUNT", {"adamId": PAGES, "pricingParam": "STDQ", "countDelta": 3})
    assert await post(apple, document) == 200
    assert await post(apple, document) == 200
    await apple.next_event()
    await asyncio.sleep(0.05)
    assert apple.drain() == []
    assert reader.counts() == (13, 6, 7)


async def test_two_deliveries_at_once_are_applied_once(apple, reader):
    document = envelope("ASSET_COUNT", {"adamId": PAGES, "pricingParam": "STDQ", "countDelta": 3})
    statuses = await asyncio.gather(*(post(apple, document) for _attempt in range(4)))
    assert statuses == [200, 200, 200, 200]
    await apple.next_event()
    await asyncio.sleep(0.05)
    assert apple.drain() == []
    assert reader.counts() == (13, 6, 7)
    assert reader.store.count_notifications("hq") == 1


async def test_split_asset_management_notifications_each_apply_and_finish_the_event(apple, reader):
    success = asset_management(SERIALS[:2])
    failure = asset_management(SERIALS[2:], "FAILURE", {"errorNumber": 9709, "errorMessage": "not enough licenses"})
    assert await post(apple, success) == 200
    first = (await apple.next_event())["vpp"]
    assert first["kind"] == "license_outcome" and first["event_status"] == "PENDING"
    assert first["deployments"] == [{"name": "pages-ipads", "members_count": 2, "members": [
        {"member_id": SERIALS[0], "state": "licensed"}, {"member_id": SERIALS[1], "state": "licensed"}]}]  # fmt: skip
    assert reader.store.get_event("hq", EVENT)["status"] == "PENDING"
    assert await post(apple, failure) == 200
    second = (await apple.next_event())["vpp"]
    assert (second["result"], second["event_status"]) == ("FAILURE", "FAILED")
    assert second["error"] == {"error_number": 9709, "error_message": "not enough licenses"}
    assert reader.members() == {SERIALS[0]: ("licensed", None), SERIALS[1]: ("licensed", None),
                                SERIALS[2]: ("failed", 9709)}  # fmt: skip
    assert reader.holders() == sorted(SERIALS[:2])
    assert reader.counts() == (10, 8, 2)  # two licenses given without a sync
    event = reader.store.get_event("hq", EVENT)
    assert event["status"] == "FAILED" and event["completed_at"]
    assert event["result"]["num_completed"] == 2 and event["result"]["failures"][0]["error_number"] == 9709


async def test_a_disassociate_outcome_reclaims_and_removes_the_assignments(apple, reader):
    await post(apple, asset_management(SERIALS))
    await apple.next_event()
    assert reader.store.get_event("hq", EVENT)["status"] == "COMPLETE"
    reader.store.record_event("hq", "evt-off", "DISASSOCIATE", deployment="pages-ipads")
    reader.store.upsert_members("pages-ipads", [{"member_id": SERIALS[0], "state": "pending", "event_id": "evt-off"}])
    assert await post(apple, asset_management(SERIALS[:1], event_id="evt-off", event_type="DISASSOCIATE")) == 200
    event = (await apple.next_event())["vpp"]
    assert event["event_type"] == "DISASSOCIATE" and event["targets"] == [{"serial_number": SERIALS[0]}]
    assert reader.members()[SERIALS[0]] == ("reclaimed", None)
    assert reader.holders() == sorted(SERIALS[1:])


async def test_an_outcome_of_an_unknown_event_records_the_assignments_only(apple, reader):
    assert await post(apple, asset_management(["OTHERSERIAL1"], event_id="not-ours")) == 200
    event = (await apple.next_event())["vpp"]
    assert event["deployments"] == [] and event["event_status"] is None
    assert reader.holders() == ["OTHERSERIAL1"]
    assert set(reader.members().values()) == {("pending", None)}


async def test_user_management_and_user_associated_update_the_users(apple, reader):
    user = {"clientUserId": "u-1", "email": "ada@example.org", "status": "Registered", "inviteCode": "inv-1"}
    created = envelope("USER_MANAGEMENT", {"eventId": "evt-u", "type": "CREATE", "result": "SUCCESS", "users": [user]})
    assert await post(apple, created) == 200
    changed = (await apple.next_event())["vpp"]
    assert changed["kind"] == "user_changed" and changed["users"] == [{"client_user_id": "u-1", "status": "Registered"}]
    assert reader.store.get_user("hq", "u-1")["status"] == "Registered"
    accepted = envelope("USER_ASSOCIATED", {"associatedUsers": [
        {"clientUserId": "u-1", "email": "ada@example.org", "status": "Associated", "idHash": "hash-1",
         "inviteCode": "inv-1"}]})  # fmt: skip
    assert await post(apple, accepted) == 200
    associated = (await apple.next_event())["vpp"]
    assert associated["kind"] == "user_associated" and associated["client_user_id"] == "u-1"
    assert (associated["status"], associated["status_before"]) == ("Associated", "Registered")
    user = reader.store.get_user("hq", "u-1")
    assert (user["status"], user["id_hash"]) == ("Associated", "hash-1")


async def test_a_failed_user_management_changes_no_user(apple, reader):
    failed = envelope("USER_MANAGEMENT", {"eventId": "evt-u", "type": "CREATE", "result": "FAILURE",
                                          "error": {"errorNumber": 9716, "errorMessage": "exists"},
                                          "users": [{"clientUserId": "u-9"}]})  # fmt: skip
    assert await post(apple, failed) == 200
    event = (await apple.next_event())["vpp"]
    assert event["result"] == "FAILURE" and event["error"]["error_number"] == 9716
    assert reader.store.get_user("hq", "u-9") is None


TOO_MANY = asset_management(["S%05d" % number for number in range(101)])
BOTH_TARGETS = envelope("ASSET_MANAGEMENT", {"eventId": EVENT, "type": "ASSOCIATE", "result": "SUCCESS",
                        "assignments": [{"adamId": PAGES, "serialNumber": "A", "clientUserId": "u"}]})  # fmt: skip


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[]",
        json.dumps({"notificationType": "ASSET_COUNT", "notification": {}, "uId": UID}).encode(),
        json.dumps(envelope("NO_SUCH_TYPE", {})).encode(),
        json.dumps(envelope("ASSET_COUNT", {"adamId": PAGES, "countDelta": "5"})).encode(),
        json.dumps(envelope("ASSET_COUNT", {"adamId": PAGES, "countDelta": True})).encode(),
        json.dumps(envelope("ASSET_COUNT", [])).encode(),
        json.dumps(asset_management(SERIALS, "FAILURE")).encode(),  # FAILURE without its error
        json.dumps(asset_management(SERIALS, "MAYBE")).encode(),
        json.dumps(TOO_MANY).encode(),
        json.dumps(BOTH_TARGETS).encode(),
    ],
    ids=[
        "not-json",
        "not-object",
        "no-id",
        "type",
        "delta-text",
        "delta-bool",
        "payload",
        "no-error",
        "result",
        "101-elements",
        "both-targets",
    ],  # fmt: skip
)
async def test_a_malformed_notification_is_refused_with_400_and_records_nothing(apple, reader, raw):
    assert await post(apple, None, raw=raw) == 400
    assert reader.store.count_notifications() == 0
    assert reader.counts() == (10, 6, 4)
    assert set(reader.members().values()) == {("pending", None)}
    assert apple.drain() == []


async def test_a_body_over_the_bound_is_refused_with_413(apple, reader):
    raw = json.dumps(envelope("TEST_NOTIFICATION", {"padding": "x" * 300_000})).encode()
    assert await post(apple, None, raw=raw) == 413
    assert reader.store.count_notifications() == 0


async def test_no_secret_reaches_the_events_or_the_logs(apple, caplog):
    documents = [
        envelope("ASSET_COUNT", {"adamId": PAGES, "pricingParam": "STDQ", "countDelta": 1}),
        asset_management(SERIALS),
        envelope("USER_ASSOCIATED", {"associatedUsers": [{"clientUserId": "u-2", "status": "Associated"}]}),
    ]
    with caplog.at_level(logging.DEBUG):
        for document in documents:
            assert await post(apple, document) == 200
        assert await post(apple, documents[0]) == 200  # a duplicate: 200, applied once
        assert await post(apple, envelope("ASSET_COUNT", {"adamId": PAGES, "countDelta": 1}), secret="nope") == 401
        events = [await apple.next_event() for _document in documents]
    text = json.dumps(events) + caplog.text
    for secret in (SECRET, OTHER_SECRET, STORE_KEY, "c2VjcmV0LXRva2Vu"):
        assert secret not in text


async def test_an_outcome_that_comes_before_its_event_is_recorded_is_replayed_once(apple, reader):
    """Apple may answer before the run that submitted the event has recorded it: the notification is kept, and the
    waiting deployment applies it once (``license_outcomes.replay_notifications``)."""
    assert await post(apple, asset_management(SERIALS[:1], event_id="evt-early")) == 200
    assert (await apple.next_event())["vpp"]["deployments"] == []
    reader.store.record_event("hq", "evt-early", "ASSOCIATE", deployment="pages-ipads")
    reader.store.upsert_members("pages-ipads", [{"member_id": SERIALS[0], "state": "pending", "event_id": "evt-early"}])
    assert replay_notifications(reader.store, "hq", ["evt-early"]) == 1
    assert reader.members()[SERIALS[0]] == ("licensed", None)
    assert reader.store.get_event("hq", "evt-early")["status"] == "COMPLETE"
    assert replay_notifications(reader.store, "hq", ["evt-early"]) == 0


async def test_old_receipts_are_forgotten_when_the_source_starts(source_factory, apple_store, caplog):
    store = open_store(apple_store, key=STORE_KEY, create=False)
    try:
        for notification_id in ("old-1", "old-2", "recent"):
            store.claim_notification("hq", notification_id, "ASSET_COUNT")
        with store.db.transaction():
            store.db.execute(
                "UPDATE apple_notifications SET received_at = ? WHERE notification_id LIKE 'old-%'",
                ("2000-01-01T00:00:00+00:00",),
            )
        with caplog.at_level(logging.INFO, logger="mdm.vpp.vpp_events"):
            await source_factory(store=apple_store, store_key=STORE_KEY, receipt_retention_days=1)
            for _look in range(200):  # the source forgets in a worker thread once it listens
                if store.count_notifications("hq") == 1:
                    break
                await asyncio.sleep(0.05)
        assert store.count_notifications("hq") == 1
        assert store.claim_notification("hq", "recent", "ASSET_COUNT") is False  # a recent one is still refused
    finally:
        store.close()
    assert "forgot 2 Apple notification(s) and 0 device answer(s) applied more than 1 day(s) ago" in caplog.text


@pytest.mark.parametrize("days", [0, -3, "7", 1.5, True])
async def test_a_retention_that_is_not_a_whole_number_of_days_is_refused_before_listening(apple_store, days):
    args = {"port": 1, "store": apple_store, "store_key": STORE_KEY, "receipt_retention_days": days}
    with pytest.raises(ValueError, match="receipt_retention_days must be a whole number of days, at least 1"):
        await vpp_events.main(asyncio.Queue(), args)
