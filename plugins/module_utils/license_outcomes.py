# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apple's outcome of an associate / disassociate / revoke put in the store: the members it was sent for become
licensed, reclaimed or failed, the assignments are added or removed, the event is finished.

One code for both ways an outcome arrives: a status read of ``vpp_deployment`` (``deployment_outcomes``) and
Apple's ASSET_MANAGEMENT notification (``notification_receipts``, and a waiting deployment replaying one that came
before its event was recorded).
"""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils.apple_notifications import asset_outcomes
from ansible_collections.mdm.vpp.plugins.module_utils.change_events import FROM_APPLE
from ansible_collections.mdm.vpp.plugins.module_utils.licensing import target_of
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import (
    EVENT_TYPE_ASSOCIATE,
    FAILED_EVENT_STATE,
    PENDING_EVENT_STATE,
    outcome_target_key,
)

COMPLETE_EVENT_STATE = "COMPLETE"


def record_holders(store, token, gained, lost):
    """Assignments given and taken back (dicts of ``iter_assignments``' shape) into the store, with each asset's
    assigned and available counts moved by the licenses that changed hands, so that app counts are right without a
    sync (the next one reads Apple's). Call it in a transaction."""
    moved = {}
    for rows, sign, write in ((gained, 1, store.record_assignments), (lost, -1, store.remove_assignments)):
        by_asset = {}
        for row in rows:
            by_asset.setdefault((row["adam_id"], row["pricing_param"]), []).append(row)
        for asset, group in by_asset.items():
            moved[asset] = moved.get(asset, 0) + sign * write(token, group)
    for (adam_id, pricing_param), count in moved.items():
        store.move_asset_counts(token, adam_id, pricing_param, count)


def outcome_updates(event_type, outcomes, members, collection_type, asset):
    """What Apple's per-target ``outcomes`` of an event (``events.outcomes_for``' shape) do to the ``members`` it
    was sent for: ``(member rows, assignments)``. Each member row is ``{member_id, state, error_number,
    error_message}`` (licensed / reclaimed, or failed with Apple's error); the assignments are those given
    (associate) or taken back, of the outcome's app (``asset`` = (adam_id, pricing_param) when it names none)."""
    by_target = {}
    for row in members:
        by_target.setdefault(target_of(row, row["license_type"], collection_type), []).append(row)
    done_state = "licensed" if event_type == EVENT_TYPE_ASSOCIATE else "reclaimed"
    rows, assignments = [], []
    for outcome in outcomes:
        target = outcome_target_key(outcome)
        if outcome["succeeded"]:
            assignments.append(
                {
                    "adam_id": str(outcome.get("adam_id") or asset[0]),
                    "pricing_param": outcome.get("pricing_param") or asset[1],
                    "target_kind": target[0],
                    "target_id": target[1],
                }
            )
        for row in by_target.get(target, ()):
            succeeded = outcome["succeeded"]
            rows.append(
                {
                    "member_id": row["member_id"],
                    "state": done_state if succeeded else "failed",
                    "error_number": None if succeeded else outcome["error_number"],
                    "error_message": None if succeeded else outcome["error_message"],
                }
            )
    return rows, assignments


def event_status(members):
    """The state of an event from its members: PENDING while one waits, else FAILED when one failed."""
    states = [member["state"] for member in members]
    if "pending" in states:
        return PENDING_EVENT_STATE
    return FAILED_EVENT_STATE if "failed" in states else COMPLETE_EVENT_STATE


def notified_result(members, error):
    """What the store keeps of an event finished by notifications (as ``deployment_outcomes.event_summary``)."""
    failures = []
    if error and any(member["state"] == "failed" for member in members):
        failures.append(dict(error, error_info={}))
    return {
        "num_requested": len(members),
        "num_completed": sum(1 for member in members if member["state"] != "failed"),
        "failures": failures,
        "source": FROM_APPLE,
    }


def apply_notified_outcomes(store, token, notification):
    """Apply a parsed ASSET_MANAGEMENT notification of ``token`` (in the caller's transaction).

    The members whose latest event is the notification's get their outcome, the assignments are added or removed,
    and the event is finished once every member has its outcome. Returns ``(event status or None, {deployment:
    member rows changed}, recorded)``; ``recorded`` is False when the event is not (yet) in the store: a deployment
    that records it afterwards replays the notification (``replay_notifications``).
    """
    event_id, event_type = notification["event_id"], notification["event_type"]
    outcomes = asset_outcomes(notification)
    event = store.get_event(token, event_id)
    changed = {}
    by_deployment = {}
    members = store.event_members(token, event_id)
    for member in members:
        if member["state"] == "pending":
            by_deployment.setdefault(member["deployment"], []).append(member)
    for deployment, waiting in by_deployment.items():
        first = waiting[0]
        rows = outcome_updates(
            event_type, outcomes, waiting, first["collection_type"], (first["adam_id"], first["pricing_param"])
        )[0]
        if rows:
            store.upsert_members(deployment, rows)
            changed[deployment] = rows
    assignments = outcome_updates(event_type, outcomes, (), None, (None, None))[1]
    if event_type == EVENT_TYPE_ASSOCIATE:
        record_holders(store, token, assignments, ())
    else:
        record_holders(store, token, (), assignments)
    if event is None:
        return None, changed, False
    status = event["status"]
    if status == PENDING_EVENT_STATE and members:
        written = {(deployment, row["member_id"]): row["state"] for deployment, rows in changed.items() for row in rows}
        members = [dict(member, state=written.get((member["deployment"], member["member_id"]), member["state"]))
                   for member in members]  # fmt: skip
        status = event_status(members)
        if status != PENDING_EVENT_STATE:
            store.update_event(token, event_id, status, result=notified_result(members, notification["error"]))
    return status, changed, True


def replay_notifications(store, token, event_ids):
    """Apply the ASSET_MANAGEMENT notifications of ``event_ids`` that arrived before their event was recorded (Apple
    may answer faster than a run records the event it submitted); each once. Returns how many were applied."""
    applied = 0
    for notification_id, notification in store.notifications_kept(token, event_ids):
        with store.transaction():
            if store.release_notification(token, notification_id):
                apply_notified_outcomes(store, token, notification)
                applied += 1
    return applied
