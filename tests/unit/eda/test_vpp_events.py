# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The event source ``mdm.vpp.vpp_events``: the MDM stand-in's real webhook posts (and crafted ones) over HTTP to
``main(queue, args)`` on 127.0.0.1, against a real SQLite store holding deployments that wait on the commands."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import plistlib
import sqlite3

import aiohttp
import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.errors import StoreError
from tests.mdm_simulator.testing import IPAD, IPHONE, MAC, Client, command
from tests.unit.eda.conftest import (
    API_KEY,
    HMAC_KEY,
    INSTALL_UUID,
    IPAD_SERIAL,
    PAGES,
    PHONE_SERIAL,
    REMOVE_UUID,
    STORE_KEY,
    install_states,
)

pytestmark = pytest.mark.asyncio

INSTALLED_BOTH = {PHONE_SERIAL: ("installed", None), IPAD_SERIAL: ("installed", None)}
SENT_BOTH = {PHONE_SERIAL: ("sent", None), IPAD_SERIAL: ("sent", None)}


def enqueue(mdm, ids, request_type, uuid, **keys):
    """Queue a raw command through the stand-in's own API (as vpp_deployment does)."""
    client = Client(mdm, api_key=API_KEY)
    if mdm.flavor == "micromdm":
        for udid in ids:
            response = client.request("PUT", "/v1/commands/%s" % udid, data=command(request_type, uuid, **keys))
            assert response.status_code == 201, response.text
        return
    response = client.request("PUT", "/v1/enqueue/%s" % ",".join(ids), data=command(request_type, uuid, **keys))
    assert response.status_code == 200, response.text


def install_pages(mdm, ids, uuid=INSTALL_UUID):
    enqueue(mdm, ids, "InstallApplication", uuid, iTunesStoreID=int(PAGES), Options={"PurchaseMethod": 1},
            ManagementFlags=1)  # fmt: skip


async def connect(mdm, *ids):
    """The devices connect; the stand-in posts each answer to the webhook before this returns."""
    return await asyncio.to_thread(mdm.connect, list(ids) or None)


def answer_deliveries(mdm):
    """The stand-in's deliveries of command answers (Idle reports and check-ins aside)."""
    return [item for item in mdm.webhook_deliveries() if item["body"].get("acknowledge_event", {}).get("command_uuid")]


def signed(body, key=HMAC_KEY):
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


async def post(url, body, signature=None):
    headers = {"Content-Type": "application/json; charset=utf-8"}
    if signature is not None:
        headers["X-Hmac-Signature"] = signature
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as response:
        return response.status


def webhook_body(status, udid, command_uuid, device):
    """A NanoMDM ``mdm.Connect`` body (§2.7) around a device plist."""
    event = {"udid": udid, "status": status, "raw_payload": base64.b64encode(plistlib.dumps(device)).decode()}
    if command_uuid:
        event["command_uuid"] = command_uuid
    event["ids"] = {"id": udid, "type": "Device"}
    body = {"topic": "mdm.Connect", "event_id": "a1b2c3d4e5f60718", "created_at": "2026-12-07T09:00:00Z",
            "acknowledge_event": event}  # fmt: skip
    return json.dumps(body).encode()


async def test_acknowledged_installs_are_recorded_with_one_event_per_member(source, mdm_factory, store_path):
    mdm = mdm_factory(source.url)
    install_pages(mdm, [IPHONE, IPAD])
    results = await connect(mdm, IPHONE, IPAD)
    assert [(r["id"], r["status"]) for r in results] == [(IPHONE, "Acknowledged"), (IPAD, "Acknowledged")]
    assert [item["status"] for item in mdm.webhook_deliveries()] == [200] * 4  # Idle + answer, per device
    events = sorted([await source.next_event(), await source.next_event()], key=lambda e: e["vpp"]["member_id"])
    assert events == [
        {"vpp": {"kind": "mdm_answer", "matched": True, "topic": "mdm.Connect", "status": "Acknowledged",
                 "enrollment_id": udid, "command_uuid": INSTALL_UUID, "deployment": "pages-phones",
                 "member_id": serial, "action": "install", "install_state": "installed",
                 "install_state_before": "sent", "error": None}}
        for serial, udid in sorted(((PHONE_SERIAL, IPHONE), (IPAD_SERIAL, IPAD)))
    ]  # fmt: skip
    assert install_states(store_path, "pages-phones") == INSTALLED_BOTH
    assert source.drain() == []


async def test_a_confirmed_removal_is_recorded_for_the_uninstall_deployment(source, mdm_factory, store_path):
    mdm = mdm_factory(source.url)
    install_pages(mdm, [IPHONE])
    await connect(mdm, IPHONE)
    await source.next_event()
    enqueue(mdm, [IPHONE], "RemoveApplication", REMOVE_UUID, Identifier="com.apple.iwork.pages")
    await connect(mdm, IPHONE)
    event = (await source.next_event())["vpp"]
    assert (event["deployment"], event["action"], event["member_id"]) == ("pages-off", "uninstall", PHONE_SERIAL)
    assert (event["install_state_before"], event["install_state"], event["matched"]) == ("removal_sent", "removed",
                                                                                         True)  # fmt: skip
    assert install_states(store_path, "pages-off") == {PHONE_SERIAL: ("removed", None)}


async def test_a_device_error_fails_the_member_with_its_error_chain(source, mdm_factory, store_path):
    mdm = mdm_factory(source.url)
    mdm.set_answers(IPHONE, [{"kind": "error", "code": 506, "domain": "ASDErrorDomain", "text": "Duplicate request"}])
    install_pages(mdm, [IPHONE])
    await connect(mdm, IPHONE)
    event = (await source.next_event())["vpp"]
    assert (event["status"], event["install_state"]) == ("Error", "failed")
    assert event["error"] == "Error 506 (ASDErrorDomain): Duplicate request"
    assert install_states(store_path, "pages-phones")[PHONE_SERIAL] == ("failed", event["error"])


@pytest.mark.parametrize("stand_in_key", [None, "not the source's key"], ids=["unsigned", "wrong key"])
async def test_a_post_without_a_valid_signature_is_refused_and_changes_nothing(
    source, mdm_factory, store_path, stand_in_key, caplog
):
    mdm = mdm_factory(source.url, hmac_key=stand_in_key)
    install_pages(mdm, [IPHONE, IPAD])
    with caplog.at_level(logging.WARNING, logger="mdm.vpp.vpp_events"):
        await connect(mdm, IPHONE, IPAD)
    assert {item["status"] for item in mdm.webhook_deliveries()} == {401}
    assert "X-Hmac-Signature" in caplog.text
    assert install_states(store_path, "pages-phones") == SENT_BOTH
    # the refused answers were not recorded: the same bodies, signed, are applied
    for item in answer_deliveries(mdm):
        raw = item["raw"].encode() if isinstance(item["raw"], str) else item["raw"]
        assert await post(source.url, raw, signed(raw)) == 200
    assert install_states(store_path, "pages-phones") == INSTALLED_BOTH
    assert len([await source.next_event(), await source.next_event()]) == 2
    assert source.drain() == []


async def test_a_body_over_the_bound_is_refused_with_413(source, store_path):
    body = b'{"topic": "mdm.Connect", "pad": "' + b"x" * (1024 * 1024) + b'"}'
    assert await post(source.url, body, signed(body)) == 413
    assert install_states(store_path, "pages-phones") == SENT_BOTH


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'["a list"]',
        b'{"topic": "mdm.Connect"}',
        b'{"topic": "mdm.Connect", "acknowledge_event": {"udid": "X", "status": "Acknowledged", '
        b'"command_uuid": "0c9a4c8e-1111-4000-8000-000000000001", "raw_payload": "not base64!"}}',
    ],
    ids=["not-json", "not-an-object", "no-event", "bad-raw-payload"],
)
async def test_a_malformed_body_is_refused_with_400_and_records_nothing(source, store_path, body):
    assert await post(source.url, body, signed(body)) == 400
    assert install_states(store_path, "pages-phones") == SENT_BOTH
    valid = webhook_body("Acknowledged", IPHONE, INSTALL_UUID, {"UDID": IPHONE, "CommandUUID": INSTALL_UUID,
                                                                "Status": "Acknowledged"})  # fmt: skip
    assert await post(source.url, valid, signed(valid)) == 200
    assert (await source.next_event())["vpp"]["member_id"] == PHONE_SERIAL  # the first event is the valid answer's
    assert source.drain() == []


async def test_a_duplicate_delivery_is_applied_once(source, mdm_factory, store_path):
    mdm = mdm_factory(source.url)
    install_pages(mdm, [IPHONE])
    await connect(mdm, IPHONE)
    first = await source.next_event()
    assert await asyncio.to_thread(mdm.redeliver_webhook, last=True)  # the same body, byte for byte
    raw = answer_deliveries(mdm)[-1]["raw"]
    raw = raw.encode() if isinstance(raw, str) else raw
    # and twice more at once: the store serialises them
    statuses = await asyncio.gather(post(source.url, raw, signed(raw)), post(source.url, raw, signed(raw)))
    assert statuses == [200, 200]
    assert [item["status"] for item in mdm.webhook_deliveries()][-1] == 200
    assert install_states(store_path, "pages-phones")[PHONE_SERIAL] == ("installed", None)
    unmatched = webhook_body("Acknowledged", IPHONE, "sentinel", {"UDID": IPHONE, "Status": "Acknowledged"})
    assert await post(source.url, unmatched, signed(unmatched)) == 200
    assert (await source.next_event())["vpp"]["command_uuid"] == "sentinel"  # no second event came before it
    assert first["vpp"]["install_state"] == "installed"


async def test_an_idle_report_gives_no_event(source, mdm_factory, store_path):
    mdm = mdm_factory(source.url)
    assert await connect(mdm, IPHONE) == []
    deliveries = mdm.webhook_deliveries()
    assert [(item["status"], item["body"]["acknowledge_event"]["status"]) for item in deliveries] == [(200, "Idle")]
    unmatched = webhook_body("Acknowledged", IPHONE, "sentinel", {"UDID": IPHONE, "Status": "Acknowledged"})
    assert await post(source.url, unmatched, signed(unmatched)) == 200
    assert (await source.next_event())["vpp"]["command_uuid"] == "sentinel"
    assert install_states(store_path, "pages-phones") == SENT_BOTH


async def test_an_answer_no_member_waits_on_gives_one_unmatched_event(source, mdm_factory, store_path):
    mdm = mdm_factory(source.url)
    enqueue(mdm, [MAC], "ProfileList", "profile-list-1")
    await connect(mdm, MAC)
    event = await source.next_event()
    assert event == {"vpp": {"kind": "mdm_answer", "matched": False, "topic": "mdm.Connect", "status": "Acknowledged",
                             "enrollment_id": MAC, "command_uuid": "profile-list-1"}}  # fmt: skip
    assert install_states(store_path, "pages-phones") == SENT_BOTH


async def test_micromdm_answers_are_recorded_without_a_signature(source_factory, mdm_factory, store_path):
    source = await source_factory(store=store_path, store_key=STORE_KEY)
    mdm = mdm_factory(source.url, flavor="micromdm", hmac_key=None)
    mdm.configure(micromdm_queue_delay=0)
    install_pages(mdm, [IPHONE])
    await connect(mdm, IPHONE)
    event = (await source.next_event())["vpp"]
    assert (event["member_id"], event["install_state"], event["enrollment_id"]) == (PHONE_SERIAL, "installed", IPHONE)


async def test_no_event_or_log_carries_a_secret(source_factory, mdm_factory, store_path, caplog, monkeypatch):
    monkeypatch.setenv("VPP_MDM_WEBHOOK_SECRET", HMAC_KEY)
    monkeypatch.setenv("VPP_STORE_KEY", STORE_KEY)
    with caplog.at_level(logging.DEBUG):
        source = await source_factory(store=store_path)  # the key and the secret from the environment
        mdm = mdm_factory(source.url)
        install_pages(mdm, [IPHONE, IPAD])
        mdm.set_answers(
            IPAD, [{"kind": "error", "code": 9610, "domain": "ASDErrorDomain", "text": "License not found"}]
        )
        await connect(mdm, IPHONE, IPAD)
        events = [await source.next_event(), await source.next_event()]
        wrong = mdm_factory(source.url, hmac_key="another key")
        enqueue(wrong, [IPHONE], "ProfileList", "p-2")
        await connect(wrong, IPHONE)
    assert {event["vpp"]["install_state"] for event in events} == {"installed", "failed"}
    assert [item["status"] for item in wrong.webhook_deliveries()] == [401, 401]
    text = json.dumps(events) + caplog.text
    signatures = [item["signature"] for item in mdm.webhook_deliveries() + wrong.webhook_deliveries()]
    for secret in (HMAC_KEY, STORE_KEY, API_KEY, *signatures):
        assert secret not in text


async def test_recording_runs_beside_the_event_loop(source, mdm_factory, store_path):
    """While the store is locked by another writer, the answer waits in a worker thread and the source still
    answers other requests at once."""
    mdm = mdm_factory(source.url)
    install_pages(mdm, [IPHONE])
    blocker = sqlite3.connect(store_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        delivery = asyncio.ensure_future(connect(mdm, IPHONE))
        for body in (b"{}", b"[]", b"not json"):
            assert await asyncio.wait_for(post(source.url, body, "bad"), 5) == 401
        assert not delivery.done()
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    await asyncio.wait_for(delivery, 30)
    assert (await source.next_event())["vpp"]["install_state"] == "installed"


async def test_without_a_store_the_source_says_what_to_set(source_factory, monkeypatch, tmp_path):
    monkeypatch.delenv("VPP_STORE", raising=False)
    with pytest.raises(ValueError, match="needs store .or the environment variable VPP_STORE"):
        await source_factory()
    with pytest.raises(StoreError, match="no store at .*missing"):
        await source_factory(store=str(tmp_path / "missing" / "vpp.db"), store_key=STORE_KEY)
    assert not (tmp_path / "missing").exists()
