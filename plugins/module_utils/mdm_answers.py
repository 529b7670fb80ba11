# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the MDM server's webhook says, and what it means for a member's install state (pure, no I/O).

One webhook POST of NanoMDM/NanoHUB or MicroMDM (§2.7, §3.7 of ``mdm-servers-api.md``) is checked (size, HMAC),
parsed into one flat answer, and mapped onto the install states of ``vocabulary``. The device's own plist arrives
base64 in ``raw_payload``; it is decoded with bounds, and anything malformed is an ``MDMError``, never data.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import plistlib

from ansible_collections.mdm.vpp.plugins.module_utils.answers import json_object
from ansible_collections.mdm.vpp.plugins.module_utils.errors import MDMError
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import (
    INSTALL_FAILED,
    INSTALL_STATES,
    INSTALLED,
    NOT_NOW,
    REMOVAL_FAILED,
    REMOVAL_SENDING,
    REMOVAL_SENT,
    REMOVED,
    SENDING,
    SENT,
)

__all__ = ["INSTALL_STATES"]  # re-exported: the one definition is vocabulary's

MAX_WEBHOOK_BYTES = 1024 * 1024  # a larger body is refused
MAX_ERRORS = 20  # error chain items kept from one answer
MAX_TEXT = 500  # characters of one text taken from a device's answer
SIGNATURE_HEADER = "X-Hmac-Signature"

IDLE = "Idle"
ACKNOWLEDGED = "Acknowledged"
ERROR = "Error"
COMMAND_FORMAT_ERROR = "CommandFormatError"
NOT_NOW_STATUS = "NotNow"
STATUSES = (IDLE, ACKNOWLEDGED, ERROR, COMMAND_FORMAT_ERROR, NOT_NOW_STATUS)
# The user id a macOS user channel reports on every answer: not part of the enrollment of a Shared iPad user.
SHARED_IPAD_USER_ID = "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"
NOT_MANAGED = "is not managed"  # "The app \u201c<id>\u201d is not managed." (§1.4, §5.14)

INSTALL_SENT = (SENDING, SENT, NOT_NOW, INSTALLED, INSTALL_FAILED)
REMOVAL_SENT_STATES = (REMOVAL_SENDING, REMOVAL_SENT, REMOVED, REMOVAL_FAILED)
DDM_INSTALL_STATES = {"managed": INSTALLED, "failed": INSTALL_FAILED}


def verify_signature(key, body, header):
    """Whether ``header`` is base64(HMAC-SHA256(``key``, ``body``)) (NanoMDM's ``X-Hmac-Signature``); a missing
    or unreadable header is ``False``."""
    if not header or not key:
        return False
    expected = base64.b64encode(hmac.new(key, body, hashlib.sha256).digest())
    try:
        given = header.strip().encode("ascii")
    except (UnicodeEncodeError, AttributeError):
        return False
    return hmac.compare_digest(expected, given)


def malformed(reason):
    return MDMError(
        "the MDM webhook's body is malformed: %s" % reason,
        hint="nothing was recorded from it; check that the MDM server's webhook URL points here",
    )


def bounded(text):
    """A device's or server's text, as a string of at most ``MAX_TEXT`` characters (``None`` stays ``None``)."""
    if text is None:
        return None
    text = str(text)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 3] + "..."


def decode_raw_payload(raw):
    """The device's plist in ``raw_payload`` (base64), as a dict; ``{}`` when absent."""
    if raw is None:
        return {}
    if not isinstance(raw, str) or len(raw) > MAX_WEBHOOK_BYTES:
        raise malformed("raw_payload is not a base64 text")
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise malformed("raw_payload is not base64") from None
    try:
        payload = plistlib.loads(data)
    except Exception:  # plistlib raises several types (InvalidFileException, ExpatError, ValueError...)
        raise malformed("raw_payload is not a plist") from None
    if not isinstance(payload, dict):
        raise malformed("raw_payload is not a plist dictionary")
    return payload


def error_chain(device):
    chain = device.get("ErrorChain") or []
    if not isinstance(chain, list):
        raise malformed("ErrorChain is not a list")
    found = []
    for item in chain[:MAX_ERRORS]:
        if not isinstance(item, dict):
            raise malformed("an ErrorChain item is not a dictionary")
        code = item.get("ErrorCode")
        found.append(
            {
                "code": code if isinstance(code, int) and not isinstance(code, bool) else bounded(code),
                "domain": bounded(item.get("ErrorDomain")),
                "description": bounded(item.get("USEnglishDescription") or item.get("LocalizedDescription")),
            }
        )
    return found


def status_report_of(device):
    """The JSON status report of a ``DeclarativeManagement`` check-in to the ``status`` endpoint, else ``None``."""
    if device.get("MessageType") != "DeclarativeManagement" or device.get("Endpoint") != "status":
        return None
    data = device.get("Data")
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not isinstance(data, bytes):
        raise malformed("the status report has no Data")
    return json_object(data, MAX_WEBHOOK_BYTES, lambda reason: malformed("the status report is %s" % reason))


def enrollment_of(event, device):
    """NanoMDM's ``ids.id``; else the udid or enrollment id, ``UDID:UserID`` for a MicroMDM user channel."""
    ids = event.get("ids")
    if isinstance(ids, dict) and ids.get("id"):
        return str(ids["id"])
    base = event.get("udid") or event.get("enrollment_id") or device.get("UDID") or device.get("EnrollmentID")
    user = device.get("UserID")
    if base and user and user != SHARED_IPAD_USER_ID:
        return "%s:%s" % (base, user)
    if base and user and device.get("UserShortName"):
        return "%s:%s" % (base, device["UserShortName"])
    return str(base) if base else None


def parse_webhook(body):
    """One webhook POST (bytes) as ``{"topic", "event_id", "enrollment_id", "udid", "command_uuid", "status",
    "error_chain", "rejection_reason", "state", "identifier", "status_report"}``."""
    document = json_object(body, MAX_WEBHOOK_BYTES, malformed)
    if not isinstance(document.get("topic"), str):
        raise malformed("not a JSON object with a topic")
    event = document.get("acknowledge_event") or document.get("checkin_event")
    if not isinstance(event, dict):
        raise malformed("neither an acknowledge_event nor a checkin_event")
    device = decode_raw_payload(event.get("raw_payload"))
    status = event.get("status")
    if status is not None and not isinstance(status, str):
        raise malformed("status is not a text")
    command_uuid = event.get("command_uuid") or device.get("CommandUUID")
    return {
        "topic": document["topic"],
        "event_id": bounded(document.get("event_id")),
        "enrollment_id": enrollment_of(event, device),
        "udid": bounded(event.get("udid") or device.get("UDID")),
        "command_uuid": None if status == IDLE or not command_uuid else bounded(command_uuid),
        "status": status,
        "error_chain": error_chain(device),
        "rejection_reason": bounded(device.get("RejectionReason")),
        "state": bounded(device.get("State")),
        "identifier": bounded(device.get("Identifier")),
        "status_report": status_report_of(device),
    }


def is_not_managed(answer):
    """Whether an Error answer says the app is not managed (so nothing of ours is installed)."""
    return any(NOT_MANAGED in (item.get("description") or "").lower() for item in answer.get("error_chain") or [])


def install_state_after(current_state, answer):
    """The member's install state after ``answer`` to the command it was sent (``None``: no change)."""
    status = answer.get("status")
    if status == IDLE or not answer.get("command_uuid") or status not in STATUSES:
        return None
    if current_state in INSTALL_SENT:
        if status == ACKNOWLEDGED:
            return INSTALLED
        if status == NOT_NOW_STATUS:  # a late NotNow never undoes the device's final answer
            return NOT_NOW if current_state in (SENDING, SENT, NOT_NOW) else None
        return INSTALL_FAILED
    if current_state in REMOVAL_SENT_STATES:
        if status == ACKNOWLEDGED:
            return REMOVED
        if status == NOT_NOW_STATUS:
            return REMOVAL_SENT if current_state in (REMOVAL_SENDING, REMOVAL_SENT) else None
        return REMOVED if status == ERROR and is_not_managed(answer) else REMOVAL_FAILED
    return None


def error_text(answer):
    """What went wrong, in one bounded line: ``Error 9610 (ASDErrorDomain): License not found``."""
    status = answer.get("status") or "no status"
    parts = []
    for item in answer.get("error_chain") or []:
        text = "%s %s" % (status, item.get("code")) if item.get("code") is not None else status
        if item.get("domain"):
            text += " (%s)" % item["domain"]
        parts.append("%s: %s" % (text, item.get("description") or "no description"))
    if not parts:
        parts.append(status if status != COMMAND_FORMAT_ERROR else status + ": the device could not read the command")
    details = [
        "%s %s" % (name, answer[key])
        for name, key in (("RejectionReason", "rejection_reason"), ("State", "state"))
        if answer.get(key)
    ]
    text = "; ".join(parts) + (" (%s)" % ", ".join(details) if details else "")
    return bounded(text)


def ddm_app_states(status_report):
    """The apps of a status report's ``StatusItems.app.managed.list``: ``{"identifier", "declaration_identifier",
    "state", "removed", "reasons", "install_state"}`` (install_state ``installed``, ``failed``, ``removed`` or
    ``None`` while the device is still working on it)."""
    items = status_report.get("StatusItems") if isinstance(status_report, dict) else None
    for key in ("app", "managed", "list"):
        items = items.get(key) if isinstance(items, dict) else None
    if items is None:
        return []
    if not isinstance(items, list):
        raise malformed("StatusItems.app.managed.list is not a list")
    found = []
    for item in items:
        if not isinstance(item, dict) or not item.get("identifier"):
            raise malformed("an app.managed.list item has no identifier")
        removed = item.get("_removed") is True
        reasons = item.get("reasons") or []
        found.append(
            {
                "identifier": bounded(item["identifier"]),
                "declaration_identifier": bounded(item.get("declaration-identifier")),
                "state": bounded(item.get("state")),
                "removed": removed,
                "reasons": [
                    {"code": bounded(reason.get("code")), "description": bounded(reason.get("description"))}
                    for reason in reasons[:MAX_ERRORS]
                    if isinstance(reason, dict)
                ],
                "install_state": REMOVED if removed else DDM_INSTALL_STATES.get(item.get("state")),
            }
        )
    return found
