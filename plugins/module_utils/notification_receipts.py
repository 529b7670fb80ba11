# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What Apple's notifications tell the store: each applied once per token, and the events it makes.

The protocol (parsing, the Bearer check) is ``apple_notifications``; this file applies a parsed notification in
one transaction with its de-duplication row: license counts (ASSET_COUNT), the outcome of an associate /
disassociate / revoke for the deployment members waiting on it (ASSET_MANAGEMENT, with the deployment's own
``license_outcomes``), users (USER_MANAGEMENT, USER_ASSOCIATED). It returns the events to put
on the queue (``change_events``), never a secret. ``forget_old_receipts`` keeps the de-duplication rows (these and
the MDM answers') from growing without end.
"""

from __future__ import annotations

from datetime import timedelta

from ansible_collections.mdm.vpp.plugins.module_utils import apple_notifications as apple
from ansible_collections.mdm.vpp.plugins.module_utils.change_events import (
    DEFAULT_LOW_THRESHOLD,
    FROM_APPLE,
    LICENSE_COUNT,
    LICENSE_OUTCOME,
    USER_ASSOCIATED,
    USER_CHANGED,
    app_fact,
    counts_fact,
    license_count_event,
    vpp_event,
)
from ansible_collections.mdm.vpp.plugins.module_utils.license_outcomes import apply_notified_outcomes
from ansible_collections.mdm.vpp.plugins.module_utils.timestamps import to_timestamp, utc_now

MAX_LISTED = 20  # members, targets or users an event lists; it says how many there are in all
# How long an applied notification or device answer is remembered to refuse a repeated delivery: Apple retries
# within about 5 minutes (reference §8) and MDM webhooks within seconds; a week leaves room for a late replay.
RECEIPT_RETENTION_DAYS = 7


def app_of(store, adam_id, pricing_param):
    """The app an event is about, with the catalogue's name (None before the first sync)."""
    metadata = store.get_metadata(adam_id) or {}
    return app_fact(adam_id, pricing_param, metadata.get("name"))


def record_notification(store, token, notification, threshold=DEFAULT_LOW_THRESHOLD):
    """Apply one parsed notification of ``token`` once, in one transaction; return ``(duplicate, events)``."""
    with store.transaction():
        if not store.claim_notification(
            token, notification["notification_id"], notification["type"], notification["event_id"]
        ):
            return True, []
        apply = APPLIERS.get(notification["type"])
        return False, apply(store, token, notification, threshold) if apply else []


def apply_asset_count(store, token, notification, threshold):
    adam_id, pricing_param = notification["adam_id"], notification["pricing_param"]
    changed = store.change_asset_total(token, adam_id, pricing_param, notification["count_delta"])
    if changed is None:  # the token has not synced the app: its name is not the token's yet either
        return [
            vpp_event(
                LICENSE_COUNT,
                token,
                FROM_APPLE,
                app=app_fact(adam_id, pricing_param),
                known=False,
                delta=notification["count_delta"],
                counts_before=None,
                counts=None,
                low=None,
                became_low=False,
                low_threshold=threshold,
                note="the app is not synced in the store yet: nothing was recorded, the next sync brings its counts",
            )
        ]
    before, after = changed
    app = app_of(store, adam_id, pricing_param)
    event = license_count_event(token, FROM_APPLE, app, counts_fact(before), counts_fact(after), threshold)
    event["vpp"]["known"] = True
    return [event]


def apply_asset_management(store, token, notification, threshold):
    """The outcome for the members waiting on the event, the assignments, the event finished (``license_outcomes``);
    kept for the deployment that records the event when it is not recorded yet."""
    del threshold
    status, changed, recorded = apply_notified_outcomes(store, token, notification)
    if not recorded:
        store.keep_notification(token, notification["notification_id"], notification)
    return outcome_events(store, token, notification, apple.asset_outcomes(notification), changed, status)


def outcome_events(store, token, notification, outcomes, changed, status):
    """One event per app the notification's assignments name."""
    by_app = {}
    for outcome in outcomes:
        by_app.setdefault((outcome["adam_id"], outcome["pricing_param"]), []).append(outcome)
    deployments = []
    for name, rows in sorted(changed.items()):
        listed, count = apple.bounded_list(rows, MAX_LISTED)
        deployments.append(
            {
                "name": name,
                "members": [{"member_id": row["member_id"], "state": row["state"]} for row in listed],
                "members_count": count,
            }
        )
    events = []
    for (adam_id, pricing_param), items in sorted(by_app.items()) or [((None, None), [])]:
        targets, count = apple.bounded_list(
            [{"client_user_id": item["client_user_id"]} if "client_user_id" in item else
             {"serial_number": item["serial_number"]} for item in items],
            MAX_LISTED,
        )  # fmt: skip
        events.append(
            vpp_event(
                LICENSE_OUTCOME,
                token,
                FROM_APPLE,
                app=app_of(store, adam_id, pricing_param) if adam_id else None,
                event_id=notification["event_id"],
                event_type=notification["event_type"],
                event_status=status,
                result=notification["result"],
                error=notification["error"],
                targets=targets,
                targets_count=count,
                deployments=deployments,
            )
        )
    return events


def apply_users(store, token, notification, threshold):
    """The users' status, ``id_hash`` and invitation into the ``users`` table; one event per notification
    (USER_MANAGEMENT) or per user who accepted the invitation (USER_ASSOCIATED)."""
    del threshold
    changes = apple.user_changes(notification)
    before = {}
    for client_user_id, fields in changes.items():
        known = store.get_user(token, client_user_id)
        before[client_user_id] = known["status"] if known else None
        store.record_user(token, client_user_id, **fields)
    if notification["type"] == apple.USER_ASSOCIATED:
        return [
            vpp_event(
                USER_ASSOCIATED,
                token,
                FROM_APPLE,
                client_user_id=client_user_id,
                status=fields.get("status"),
                status_before=before[client_user_id],
                id_hash=fields.get("id_hash"),
            )
            for client_user_id, fields in changes.items()
        ]
    listed, count = apple.bounded_list(
        [{"client_user_id": user["client_user_id"], "status": user.get("status")} for user in notification["users"]],
        MAX_LISTED,
    )
    return [
        vpp_event(
            USER_CHANGED,
            token,
            FROM_APPLE,
            event_id=notification["event_id"],
            event_type=notification["event_type"],
            result=notification["result"],
            error=notification["error"],
            users=listed,
            users_count=count,
        )
    ]


APPLIERS = {
    apple.ASSET_COUNT: apply_asset_count,
    apple.ASSET_MANAGEMENT: apply_asset_management,
    apple.USER_MANAGEMENT: apply_users,
    apple.USER_ASSOCIATED: apply_users,
}


def forget_old_receipts(store, days=RECEIPT_RETENTION_DAYS):
    """Forget Apple's notifications and the MDM's answers applied more than ``days`` ago (each token's newest
    notification stays: it says that this store's receiver works for the token). Returns how many of each went,
    ``{"apple_notifications": n, "mdm_answers": m}``."""
    before = to_timestamp(utc_now() - timedelta(days=days))
    return {"apple_notifications": store.forget_notifications(before), "mdm_answers": store.forget_mdm_answers(before)}
