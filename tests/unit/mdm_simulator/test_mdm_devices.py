# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Queues, device answers and webhooks (§2.6, §2.7, §3.6, §3.7; §5 items 8-11, 17-19)."""

from __future__ import annotations

import base64
import plistlib

from tests.mdm_simulator.testing import IPAD, IPHONE, MAC, MAC_USER, Client, command


def acks(receiver):
    return [event["acknowledge_event"] for event in receiver.events("mdm.Connect")]


def test_queue_order_and_delivery(nano):
    """§5.8: FIFO, one command per reply; a command stays queued until a final result arrives."""
    for uuid in ("q-1", "q-2", "q-3"):
        nano.request("PUT", "/v1/enqueue/%s?nopush=1" % IPHONE, data=command("ProfileList", uuid))
    assert [item["uuid"] for item in nano.hook("GET", "/queue", id=IPHONE)] == ["q-1", "q-2", "q-3"]
    assert [r["command_uuid"] for r in nano.connect(IPHONE)] == ["q-1", "q-2", "q-3"]
    assert nano.hook("GET", "/queue", id=IPHONE) == []
    assert nano.connect(IPHONE) == []


def test_not_now_then_acknowledged_nanomdm(nano, receiver):
    """§5.9 NanoMDM: NotNow is skipped only in the reply to that NotNow; the next non-NotNow report gets it again
    (same session: the device is still busy; next session: answered). Two events, same command_uuid."""
    nano.hook("POST", "/devices/answers", {"id": IPHONE, "answers": ["not_now"]})
    nano.request("PUT", "/v1/enqueue/%s?nopush=1" % IPHONE, data=command("ProfileList", "nn-1"))
    nano.request("PUT", "/v1/enqueue/%s?nopush=1" % IPHONE, data=command("CertificateList", "nn-2"))
    first = [(r["command_uuid"], r["status"]) for r in nano.connect(IPHONE)]
    # nn-1 NotNow -> reply skips it -> nn-2 Acknowledged -> reply re-offers nn-1 -> still NotNow -> nothing
    assert first == [("nn-1", "NotNow"), ("nn-2", "Acknowledged"), ("nn-1", "NotNow")]
    assert nano.hook("GET", "/queue", id=IPHONE) == [{"uuid": "nn-1", "request_type": "ProfileList", "not_now": True}]
    assert [(r["command_uuid"], r["status"]) for r in nano.connect(IPHONE)] == [("nn-1", "Acknowledged")]
    statuses = [(a["status"], a.get("command_uuid")) for a in acks(receiver) if a.get("command_uuid") == "nn-1"]
    assert statuses == [("NotNow", "nn-1"), ("NotNow", "nn-1"), ("Acknowledged", "nn-1")]


def test_not_now_then_acknowledged_micromdm(micro, receiver):
    """§5.9 MicroMDM: NotNow commands come back only when the main queue is empty and the report is not NotNow."""
    micro.hook("POST", "/devices/answers", {"id": IPHONE, "answers": ["not_now"]})
    for uuid in ("mn-1", "mn-2"):
        assert micro.request("PUT", "/v1/commands/" + IPHONE, data=command("ProfileList", uuid)).status_code == 201
    micro.mdm.timers[-1].join()
    first = [(r["command_uuid"], r["status"]) for r in micro.connect(IPHONE)]
    assert first == [("mn-1", "NotNow"), ("mn-2", "Acknowledged"), ("mn-1", "NotNow")]
    assert [(r["command_uuid"], r["status"]) for r in micro.connect(IPHONE)] == [("mn-1", "Acknowledged")]
    assert [a["status"] for a in acks(receiver) if a.get("command_uuid") == "mn-1"] == [
        "NotNow",
        "NotNow",
        "Acknowledged",
    ]


def test_idle_event_has_no_command_uuid(nano, receiver):
    """§5.10: the Idle report yields an event without command_uuid; nothing is stored."""
    assert nano.connect(IPHONE) == []
    [idle] = acks(receiver)
    assert idle["status"] == "Idle"
    assert "command_uuid" not in idle
    assert plistlib.loads(base64.b64decode(idle["raw_payload"])) == {"UDID": IPHONE, "Status": "Idle"}


def test_error_with_error_chain_passes_through(nano, receiver):
    """§5.11: the device plist is in raw_payload unchanged; the event lifts only status and command_uuid."""
    script = [{"kind": "error", "code": 506, "domain": "ASDErrorDomain", "text": "Duplicate request"}]
    nano.hook("POST", "/devices/answers", {"id": IPHONE, "answers": script})
    nano.request("PUT", "/v1/enqueue/" + IPHONE, data=command("ProfileList", "err-1"))
    assert nano.connect(IPHONE)[0]["status"] == "Error"
    event = acks(receiver)[-1]
    assert set(event) == {"udid", "status", "command_uuid", "raw_payload", "ids"}
    report = plistlib.loads(base64.b64decode(event["raw_payload"]))
    assert report["ErrorChain"] == [
        {"ErrorCode": 506, "ErrorDomain": "ASDErrorDomain", "LocalizedDescription": "Duplicate request",
         "USEnglishDescription": "Duplicate request"}
    ]  # fmt: skip


def test_user_channel_ids(nano, receiver):
    """§2.5, §2.7: a macOS user channel is UDID:UserID, with parent_id and type User."""
    channel = "%s:%s" % (MAC, MAC_USER)
    nano.request("PUT", "/v1/enqueue/" + channel, data=command("ProfileList", "u-1"))
    assert nano.connect(channel)[0]["status"] == "Acknowledged"
    assert acks(receiver)[-1]["ids"] == {"id": channel, "parent_id": MAC, "type": "User"}


def test_reenrollment_wipes_queue_and_disables_push(nano, receiver):
    """§5.17: Authenticate wipes device + user channel queues; push fails until TokenUpdate."""
    channel = "%s:%s" % (MAC, MAC_USER)
    nano.request("PUT", "/v1/enqueue/%s,%s?nopush=1" % (MAC, channel), data=command("ProfileList", "re-1"))
    nano.hook("POST", "/devices/authenticate", {"id": MAC})
    assert nano.hook("GET", "/queue", id=MAC) == [] and nano.hook("GET", "/queue", id=channel) == []
    assert nano.request("GET", "/v1/push/" + MAC).json()["status"][MAC] == {"push_error": "push data missing for id"}
    nano.hook("POST", "/devices/token_update", {"id": MAC})
    assert "push_result" in nano.request("GET", "/v1/push/" + MAC).json()["status"][MAC]
    topics = [event["topic"] for event in receiver.events()]
    assert topics[-2:] == ["mdm.Authenticate", "mdm.TokenUpdate"]
    assert receiver.events("mdm.TokenUpdate")[0]["checkin_event"]["token_update_tally"] == 2


def test_duplicate_delivery_and_failed_delivery(nano, receiver):
    """§5.18: redelivery sends the same body again (same command_uuid); non-200 is a failed delivery, no retry."""
    nano.request("PUT", "/v1/enqueue/" + IPHONE, data=command("ProfileList", "dd-1"))
    receiver.statuses = [200, 201]  # Idle event ok; the result's event answered 201: NanoMDM wants exactly 200
    nano.connect(IPHONE)
    deliveries = nano.hook("GET", "/webhooks")
    assert [(d["status"], d["ok"]) for d in deliveries] == [(200, True), (201, False)]
    again = nano.hook("POST", "/webhook/redeliver", {"last": True})
    assert again["ok"] is True
    assert receiver.received[-1]["raw"] == receiver.received[-2]["raw"]
    assert len(receiver.received) == 3  # no retries


def test_micromdm_webhook_shape(micro, receiver):
    """§3.7: UUID event_id, no ids, 2-space JSON, no HMAC header even with a key, success below 400."""
    micro.request("PUT", "/v1/commands/" + IPHONE, data=command("ProfileList", "mw-1"))
    micro.mdm.timers[-1].join()
    receiver.statuses = [200, 302]
    micro.connect(IPHONE)
    item = receiver.received[-1]
    assert "X-Hmac-Signature" not in item["headers"]
    assert item["raw"].startswith(b'{\n  "topic": "mdm.Connect"')
    assert len(item["body"]["event_id"]) == 36
    assert "ids" not in item["body"]["acknowledge_event"]
    assert [d["ok"] for d in micro.hook("GET", "/webhooks")] == [True, True]


def test_background_devices_connect_after_push(mdm_factory, receiver):
    """Optional background mode: a pushed device connects by itself after connect_delay."""
    client = Client(mdm_factory(flavor="nanomdm", webhook_url=receiver.url))
    client.hook("POST", "/configure", {"background": True, "connect_delay": 0.01})
    client.request("PUT", "/v1/enqueue/" + IPAD, data=command("ProfileList", "bg-1"))
    client.mdm.timers[-1].join()
    assert client.hook("GET", "/device", id=IPAD)["answered"][0]["command_uuid"] == "bg-1"
