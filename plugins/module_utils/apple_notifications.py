# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What Apple's notifications say (reference §11), checked and parsed (pure, no I/O).

A notification is a JSON envelope ``{notificationId, notificationType, uId, notification}`` POSTed with
``Authorization: Bearer <secret>``. ``parse_notification`` turns the body into one flat, bounded dict or raises
``NotificationError``: a malformed notification is an error, never data. ``matching_token`` finds the token whose
stored secret is the Bearer, in constant time per candidate.
"""

from __future__ import annotations

import hmac

from ansible_collections.mdm.vpp.plugins.module_utils.answers import json_object
from ansible_collections.mdm.vpp.plugins.module_utils.errors import VPPError
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import (
    DEFAULT_PRICING_PARAM,
    EVENT_TYPE_ASSOCIATE,
    EVENT_TYPE_CREATE,
    EVENT_TYPE_DISASSOCIATE,
    EVENT_TYPE_RETIRE,
    EVENT_TYPE_REVOKE,
    EVENT_TYPE_UPDATE,
)

MAX_NOTIFICATION_BYTES = 256 * 1024  # 100 elements of a few hundred bytes each fit many times over
MAX_ELEMENTS = 100  # Apple splits larger jobs (reference §11)
MAX_TEXT = 500  # characters of one text taken from a notification
MAX_ID = 200  # characters of an id (notificationId, eventId, clientUserId, serial number...)

TEST_NOTIFICATION = "TEST_NOTIFICATION"
ASSET_COUNT = "ASSET_COUNT"
ASSET_MANAGEMENT = "ASSET_MANAGEMENT"
USER_MANAGEMENT = "USER_MANAGEMENT"
USER_ASSOCIATED = "USER_ASSOCIATED"
# Types Apple may also send (subscriptions, unlimited assets): recorded once, no effect on the store.
OTHER_TYPES = ("SUBSCRIPTION_COUNT", "SUBSCRIPTION_MANAGEMENT", "UNLIMITED_ASSET")
TYPES = (TEST_NOTIFICATION, ASSET_COUNT, ASSET_MANAGEMENT, USER_MANAGEMENT, USER_ASSOCIATED, *OTHER_TYPES)

SUCCESS, FAILURE = "SUCCESS", "FAILURE"
ASSET_EVENT_TYPES = (EVENT_TYPE_ASSOCIATE, EVENT_TYPE_DISASSOCIATE, EVENT_TYPE_REVOKE)
USER_EVENT_TYPES = (EVENT_TYPE_CREATE, EVENT_TYPE_UPDATE, EVENT_TYPE_RETIRE)
USER_STATUSES = ("Registered", "Associated", "Retired", "Deleted")
BEARER = "bearer "


class NotificationError(VPPError):
    """A body that is not one of Apple's notifications: refused with 400, nothing recorded."""


def malformed(reason):
    return NotificationError(
        "Apple's notification is malformed: %s" % reason,
        hint="nothing was recorded from it; check that only Apple posts to this path",
    )


def bearer_of(header):
    """The secret of an ``Authorization: Bearer <secret>`` header, or None."""
    if not header or header[: len(BEARER)].lower() != BEARER:
        return None
    secret = header[len(BEARER) :].strip()
    return secret or None


def matching_token(candidates, given):
    """The name of the token among ``candidates`` (``[(name, secret)]``) whose secret is ``given``, or None.

    Each comparison is ``hmac.compare_digest`` and every candidate is compared, so the time taken says nothing of
    how much of a secret matched, nor which candidate did.
    """
    if not given:
        return None
    given_bytes = given.encode("utf-8")
    found = None
    for name, secret in candidates:
        if secret and hmac.compare_digest(secret.encode("utf-8"), given_bytes) and found is None:
            found = name
    return found


def text(value, what, limit=MAX_TEXT, required=False):
    """A bounded text of the notification (a number is taken as its digits); None when absent and allowed."""
    if value is None or value == "":
        if required:
            raise malformed("%s is missing" % what)
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise malformed("%s is not a text" % what)
    value = str(value)
    if len(value) > limit:
        if limit == MAX_ID:
            raise malformed("%s is longer than %d characters" % (what, limit))
        value = value[: limit - 3] + "..."
    return value


def integer(value, what):
    if isinstance(value, bool) or not isinstance(value, int):
        raise malformed("%s is not an integer" % what)
    return value


def choice(value, what, choices):
    if value not in choices:
        raise malformed("%s is not one of %s" % (what, ", ".join(choices)))
    return value


def elements(payload, key):
    """The list ``payload[key]`` (absent: empty) of at most ``MAX_ELEMENTS`` dictionaries."""
    items = payload.get(key)
    if items is None:
        return []
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise malformed("%s is not a list of objects" % key)
    if len(items) > MAX_ELEMENTS:
        raise malformed("%s has %d elements, Apple sends at most %d" % (key, len(items), MAX_ELEMENTS))
    return items


def error_of(payload, result):
    """The one ``error`` of a FAILURE notification: ``{"error_number", "error_message"}`` (None on SUCCESS)."""
    error = payload.get("error")
    if result == SUCCESS:
        return None
    if not isinstance(error, dict):
        raise malformed("a FAILURE notification has no error object")
    number = error.get("errorNumber")
    return {
        "error_number": None if number is None else integer(number, "error.errorNumber"),
        "error_message": text(error.get("errorMessage"), "error.errorMessage"),
    }


def assignment_of(item):
    """One assignment of ASSET_MANAGEMENT: ``adam_id``, ``pricing_param`` and ``client_user_id`` or
    ``serial_number`` (the member shape of ``batches.batch_members``)."""
    found = {
        "adam_id": text(item.get("adamId"), "an assignment's adamId", MAX_ID),
        "pricing_param": text(item.get("pricingParam"), "an assignment's pricingParam", MAX_ID)
        or DEFAULT_PRICING_PARAM,
    }
    user = text(item.get("clientUserId"), "an assignment's clientUserId", MAX_ID)
    serial = text(item.get("serialNumber"), "an assignment's serialNumber", MAX_ID)
    if (user is None) == (serial is None):
        raise malformed("an assignment names neither or both of clientUserId and serialNumber")
    found["client_user_id" if user is not None else "serial_number"] = user if user is not None else serial
    return found


def user_of(item):
    """One ``ResponseUser``: ``client_user_id`` and the fields the store keeps (absent ones left out)."""
    found = {"client_user_id": text(item.get("clientUserId"), "a user's clientUserId", MAX_ID, required=True)}
    status = item.get("status")
    if status is not None:
        found["status"] = choice(status, "a user's status", USER_STATUSES)
    for key, field in (("email", "email"), ("idHash", "id_hash"), ("inviteCode", "invite_code")):
        value = text(item.get(key), "a user's " + key, MAX_TEXT)
        if value is not None:
            found[field] = value
    return found


def event_payload(payload, event_types, list_key, parse_item):
    result = choice(payload.get("result"), "result", (SUCCESS, FAILURE))
    return {
        "event_id": text(payload.get("eventId"), "eventId", MAX_ID, required=True),
        "event_type": choice(payload.get("type"), "type", event_types),
        "result": result,
        "error": error_of(payload, result),
        list_key: [parse_item(item) for item in elements(payload, list_key)],
    }


def parse_payload(notification_type, payload):
    if notification_type == ASSET_COUNT:
        return {
            "adam_id": text(payload.get("adamId"), "adamId", MAX_ID, required=True),
            "pricing_param": text(payload.get("pricingParam"), "pricingParam", MAX_ID) or DEFAULT_PRICING_PARAM,
            "count_delta": integer(payload.get("countDelta"), "countDelta"),
        }
    if notification_type == ASSET_MANAGEMENT:
        return event_payload(payload, ASSET_EVENT_TYPES, "assignments", assignment_of)
    if notification_type == USER_MANAGEMENT:
        return event_payload(payload, USER_EVENT_TYPES, "users", user_of)
    if notification_type == USER_ASSOCIATED:
        return {"users": [user_of(item) for item in elements(payload, "associatedUsers")]}
    return {}


def parse_notification(body):
    """One POST body (bytes) as ``{"notification_id", "type", "uid", "event_id", ...the type's fields}``."""
    document = json_object(body, MAX_NOTIFICATION_BYTES, malformed)
    notification_type = text(document.get("notificationType"), "notificationType", MAX_ID, required=True)
    if notification_type not in TYPES:
        raise malformed("unknown notificationType %r" % notification_type)
    payload = document.get("notification")
    if not isinstance(payload, dict):
        raise malformed("notification is not an object")
    parsed = {
        "notification_id": text(document.get("notificationId"), "notificationId", MAX_ID, required=True),
        "type": notification_type,
        "uid": text(document.get("uId"), "uId", MAX_ID, required=True),
        "event_id": None,
    }
    parsed.update(parse_payload(notification_type, payload))
    return parsed


def asset_outcomes(notification):
    """Per-assignment outcomes of an ASSET_MANAGEMENT notification, in the shape of ``events.outcomes_for``:
    the assignment plus ``succeeded``, ``error_number`` and ``error_message``."""
    error = notification["error"] or {}
    return [
        dict(
            assignment,
            succeeded=notification["result"] == SUCCESS,
            error_number=error.get("error_number"),
            error_message=error.get("error_message"),
        )
        for assignment in notification["assignments"]
    ]


def user_changes(notification):
    """``{client_user_id: fields}`` a USER_MANAGEMENT or USER_ASSOCIATED notification sets in the ``users`` table
    (a FAILURE changes no user: Apple did not do what was asked)."""
    if notification.get("result") == FAILURE:
        return {}
    return {
        user["client_user_id"]: {key: value for key, value in user.items() if key != "client_user_id"}
        for user in notification["users"]
    }


def bounded_list(items, bound):
    """``(the first bound items, how many there are)``: an event names a bounded number of members."""
    items = list(items)
    return items[:bound], len(items)
