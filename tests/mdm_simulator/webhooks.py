# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Webhook events shaped per flavor (NanoMDM §2.7, MicroMDM §3.7) and their synchronous, retry-less delivery."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
import uuid as uuid_module

DELIVERY_TIMEOUT = {"micromdm": 30.0}  # NanoMDM uses http.DefaultClient (no timeout); we bound it at 10 s
DEFAULT_TIMEOUT = 10.0


def created_at():
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_id(flavor):
    # NanoMDM: the request trace id, 16 hex chars; MicroMDM: a random UUID (§3.7)
    return str(uuid_module.uuid4()) if flavor == "micromdm" else secrets.token_hex(8)


def acknowledge_event(flavor, enrollment, status, command_uuid, raw_payload):
    """``mdm.Connect`` body for one device report (Idle has no ``command_uuid``, §5.10)."""
    b64 = base64.b64encode(raw_payload).decode("ascii")
    if flavor == "micromdm":
        event = {"udid": enrollment.device.udid, "status": status}
        if command_uuid:
            event["command_uuid"] = command_uuid
        event["url_params"] = None  # [assume] as in checkin_event (always present, null when none)
        event["raw_payload"] = b64
        return {"topic": "mdm.Connect", "event_id": event_id(flavor), "created_at": created_at(),
                "acknowledge_event": event}  # fmt: skip
    event = {"udid": enrollment.device.udid, "status": status}
    if command_uuid:
        event["command_uuid"] = command_uuid
    event["raw_payload"] = b64
    event["ids"] = enrollment.ids()
    return {"topic": "mdm.Connect", "event_id": event_id(flavor), "created_at": created_at(),
            "acknowledge_event": event}  # fmt: skip


def checkin_event(flavor, topic, enrollment, raw_payload, token_update_tally=None):
    """``mdm.Authenticate`` / ``mdm.TokenUpdate`` / ``mdm.DeclarativeManagement`` body (§2.7, §3.7)."""
    event = {"udid": enrollment.device.udid}
    if flavor == "micromdm":
        event["url_params"] = None  # always present in MicroMDM (checkin.go#L9-14)
    event["raw_payload"] = base64.b64encode(raw_payload).decode("ascii")
    if flavor != "micromdm":
        event["ids"] = enrollment.ids()
        if token_update_tally is not None:
            event["token_update_tally"] = token_update_tally
    return {"topic": topic, "event_id": event_id(flavor), "created_at": created_at(), "checkin_event": event}


def encode(flavor, event):
    if flavor == "micromdm":
        return json.dumps(event, indent=2).encode("utf-8")  # http_post.go#L22
    return json.dumps(event, separators=(",", ":")).encode("utf-8")  # NanoMDM: compact


def signature(key, body):
    """``X-Hmac-Signature``: standard padded Base64 of HMAC-SHA256(key, body) (§2.7, §5.19)."""
    key = key.encode("utf-8") if isinstance(key, str) else key
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode("ascii")


class WebhookSender:
    """Delivers one POST per event, in the caller's thread, never retried; keeps every delivery for the hooks."""

    def __init__(self, flavor, url, hmac_key):
        self.flavor, self.url, self.hmac_key = flavor, url, hmac_key
        self.deliveries = []

    def send(self, event):
        return self.deliver(event.get("topic"), encode(self.flavor, event))

    def deliver(self, topic, body):
        record = {"topic": topic, "status": None, "ok": False, "error": None, "time": time.time(),
                  "body": json.loads(body), "raw": body.decode("utf-8"), "signature": None}  # fmt: skip
        if not self.url:
            record["error"] = "no webhook_url"
            self.deliveries.append(record)
            return record
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self.hmac_key and self.flavor != "micromdm":  # MicroMDM signs nothing (§3.7)
            headers["X-Hmac-Signature"] = record["signature"] = signature(self.hmac_key, body)
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=DELIVERY_TIMEOUT.get(self.flavor, DEFAULT_TIMEOUT)) as answer:
                record["status"] = answer.status
        except urllib.error.HTTPError as answer:
            record["status"] = answer.code
        except (OSError, ValueError) as failure:
            record["error"] = str(failure)
        if record["status"] is not None:
            # NanoMDM: exactly 200 is success; MicroMDM: anything below 400 (§3.7)
            record["ok"] = record["status"] < 400 if self.flavor == "micromdm" else record["status"] == 200
            if not record["ok"]:
                record["error"] = "webhook HTTP status %d" % record["status"]
        self.deliveries.append(record)
        return record

    def redeliver(self, index=None, last=False):
        """Send an earlier body again, byte for byte (a device re-sending its report, §5.18)."""
        if not self.deliveries:
            raise ValueError("no webhook delivered yet")
        previous = self.deliveries[-1] if last or index is None else self.deliveries[int(index)]
        return self.deliver(previous["topic"], previous["raw"].encode("utf-8"))
