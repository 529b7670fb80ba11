# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The words of the domain, defined once: constants and the identities of assets, assignments and targets.

Every other file imports these instead of writing a literal of its own. Identities are tuples (a full sync of a
large location builds a million of them): an asset is ``(adam_id, pricing_param)``, a license target
``(kind, id)``, an assignment ``(adam_id, pricing_param, kind, id)``. Each has one builder per spelling it comes
in: Apple's camelCase records (``apple_*``), the store's rows (``stored_*``) and plain values.
"""

from __future__ import annotations

# Apple: an asset given without pricingParam means STDQ (standard quality); PLUS is high quality.
DEFAULT_PRICING_PARAM = "STDQ"
PRICING_PARAMS = ("STDQ", "PLUS")

# A license is held by a user (clientUserId) or a device (serial number); a collection has one kind of member.
USER = "user"
DEVICE = "device"
TARGET_KINDS = (USER, DEVICE)
LICENSE_TYPES = TARGET_KINDS
COLLECTION_TYPES = TARGET_KINDS

# Deployments: an install deployment licenses its members, an uninstall deployment reclaims their licenses.
INSTALL = "install"
UNINSTALL = "uninstall"
ACTIONS = (INSTALL, UNINSTALL)
REQUIRED = "required"
AVAILABLE = "available"  # refused: Apple licenses apps, it does not offer them
PURPOSES = (REQUIRED, AVAILABLE)
MEMBER_STATES = ("pending", "licensed", "failed", "untargeted", "reclaimed")

# How the app reaches a licensed member: only the license (the MDM installs on its own), an MDM command, or a
# declaration (DDM ``app.managed``); and when an uninstall takes the license back: once the device confirmed the
# app removed, or once the MDM accepted the removal.
INSTALL_VIA_LICENSE = "license"
INSTALL_VIA_COMMAND = "command"
INSTALL_VIA_DECLARATION = "declaration"
INSTALL_VIA = (INSTALL_VIA_LICENSE, INSTALL_VIA_COMMAND, INSTALL_VIA_DECLARATION)
RECLAIM_WHEN_REMOVED = "removed"
RECLAIM_WHEN_SENT = "sent"
RECLAIM_WHEN = (RECLAIM_WHEN_REMOVED, RECLAIM_WHEN_SENT)

# A member's install state (None: nothing sent to its device). ``*_sending``: recorded before the MDM is asked
# (a rerun after a crash sends the same command UUID again); ``sent``/``removal_sent``: the MDM queued it;
# then the device's answer: ``not_now`` (it will answer later), ``installed``, ``failed``, ``removed``,
# ``removal_failed``.
SENDING = "sending"
SENT = "sent"
NOT_NOW = "not_now"
INSTALLED = "installed"
INSTALL_FAILED = "failed"
REMOVAL_SENDING = "removal_sending"
REMOVAL_SENT = "removal_sent"
REMOVED = "removed"
REMOVAL_FAILED = "removal_failed"
INSTALL_STATES = (
    SENDING,
    SENT,
    NOT_NOW,
    INSTALLED,
    INSTALL_FAILED,
    REMOVAL_SENDING,
    REMOVAL_SENT,
    REMOVED,
    REMOVAL_FAILED,
)

# Apple's product types (books are licensed to users only).
APP = "App"
BOOK = "Book"
PRODUCT_TYPES = (APP, BOOK)

# Apple's event states: PENDING until the event is COMPLETE or FAILED.
PENDING_EVENT_STATE = "PENDING"
FAILED_EVENT_STATE = "FAILED"
FINISHED_EVENT_STATES = ("COMPLETE", FAILED_EVENT_STATE)

# Apple's event types: what a write request started (the store keeps them with each event).
EVENT_TYPE_ASSOCIATE = "ASSOCIATE"
EVENT_TYPE_DISASSOCIATE = "DISASSOCIATE"
EVENT_TYPE_REVOKE = "REVOKE"
EVENT_TYPE_CREATE = "CREATE"
EVENT_TYPE_UPDATE = "UPDATE"
EVENT_TYPE_RETIRE = "RETIRE"

# Apple's notification types (reference section 11); TEST_NOTIFICATION is posted when settings are saved, never
# subscribed. A token subscribes by default to those about licenses and users.
NOTIFICATION_TEST = "TEST_NOTIFICATION"
NOTIFICATION_ASSET_MANAGEMENT = "ASSET_MANAGEMENT"
NOTIFICATION_ASSET_COUNT = "ASSET_COUNT"
NOTIFICATION_USER_MANAGEMENT = "USER_MANAGEMENT"
NOTIFICATION_USER_ASSOCIATED = "USER_ASSOCIATED"
LICENSE_AND_USER_NOTIFICATIONS = (
    NOTIFICATION_ASSET_MANAGEMENT,
    NOTIFICATION_ASSET_COUNT,
    NOTIFICATION_USER_MANAGEMENT,
    NOTIFICATION_USER_ASSOCIATED,
)

# Apple's user statuses that hold (or may receive) licenses.
REGISTERED = "Registered"  # a user Apple knows who has not accepted the invitation yet
ASSOCIATED = "Associated"
ACTIVE_USER_STATUSES = (REGISTERED, ASSOCIATED)


def pricing_param_or_default(pricing_param):
    """``pricing_param``, or Apple's default for an asset given without one."""
    return pricing_param or DEFAULT_PRICING_PARAM


def asset_key(adam_id, pricing_param=None):
    """The identity of an asset: ``(adam_id, pricing_param)``, the adamId as text."""
    return str(adam_id), pricing_param_or_default(pricing_param)


def apple_asset_key(asset):
    """The identity of one of Apple's asset records (``adamId``, ``pricingParam``)."""
    return asset_key(asset["adamId"], asset.get("pricingParam"))


def stored_asset_key(row):
    """The identity of a store row naming an asset (``adam_id``, ``pricing_param``)."""
    return asset_key(row["adam_id"], row.get("pricing_param"))


def normalize_serial(serial):
    """A serial number as the collection compares and stores it: upper-case, without surrounding blanks.

    Apple's serial numbers are upper-case, but MDM exports and hand-typed lists are not always: ``c02acme00050``
    and ``C02ACME00050`` are one device, with one license. Client user ids stay as given (Apple compares them
    exactly).
    """
    return str(serial).strip().upper()


def target_key(kind, target_id):
    """A license target: ``("user", clientUserId)`` or ``("device", SERIALNUMBER)`` (serials upper-cased)."""
    if kind == DEVICE:
        return kind, normalize_serial(target_id)
    return kind, str(target_id)


def apple_target_key(record):
    """The target an Apple record names (``clientUserId`` or ``serialNumber``), or None when it names neither."""
    if record.get("clientUserId"):
        return target_key(USER, record["clientUserId"])
    if record.get("serialNumber"):
        return target_key(DEVICE, record["serialNumber"])
    return None


def assignment_key(adam_id, pricing_param, kind, target_id):
    """The identity of an assignment: ``(adam_id, pricing_param, kind, target_id)``."""
    return asset_key(adam_id, pricing_param) + target_key(kind, target_id)


def apple_assignment_key(assignment):
    """The identity of one of Apple's ``Assignment`` records (it must name a target: see ``apple_target_key``)."""
    return apple_asset_key(assignment) + apple_target_key(assignment)


def stored_assignment_key(row):
    """The identity of a store assignment row (``target_kind``, ``target_id``)."""
    return assignment_key(row["adam_id"], row.get("pricing_param"), row["target_kind"], row["target_id"])


def outcome_target_key(outcome):
    """The target of one of the client's event outcomes (``serial_number`` or ``client_user_id``)."""
    if outcome.get("serial_number") is not None:
        return target_key(DEVICE, outcome["serial_number"])
    return target_key(USER, outcome["client_user_id"])
