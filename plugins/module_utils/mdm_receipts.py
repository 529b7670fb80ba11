# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an MDM server's webhook tells the store: device answers recorded once, and the events they make.

The protocol (signature, parsing, the state an answer leads to) is ``mdm_answers``; this file applies a parsed
answer to the deployment members waiting on it and describes what changed, without secrets.
"""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils import mdm_answers
from ansible_collections.mdm.vpp.plugins.module_utils.change_events import MDM_ANSWER
from ansible_collections.mdm.vpp.plugins.module_utils.install_plan import UNKNOWN_ENROLLMENT
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import (
    INSTALL_FAILED,
    INSTALLED,
    REMOVAL_FAILED,
    REMOVAL_SENDING,
    REMOVAL_SENT,
    REMOVED,
)

EVENT_KIND = MDM_ANSWER
ENROLLED_TOPIC = "mdm.TokenUpdate"  # the device enrolled (again) and can be pushed
DDM_STATUS_PREFIX = "ddm:"
# A declaration's app state and the install state it means; ``removed`` only for members being uninstalled.
DDM_STATES = {"managed": INSTALLED, "failed": INSTALL_FAILED}
REMOVABLE_STATES = (REMOVAL_SENDING, REMOVAL_SENT, INSTALLED)
REMOVAL_STATES = (REMOVAL_SENDING, REMOVAL_SENT, REMOVED, REMOVAL_FAILED)


def command_decide(answer):
    """``decide(member_row)`` for ``record_mdm_answer``: the state after this command answer, and its error."""

    def decide(member):
        state = mdm_answers.install_state_after(member["install_state"], answer)
        if state is None:
            return None
        return state, (mdm_answers.error_text(answer) if state in (INSTALL_FAILED, REMOVAL_FAILED) else None)

    return decide


def ddm_decide(item):
    """``decide(member_row)`` for one ``app.managed.list`` item of a status report (an app still reported managed
    leaves a member whose removal is under way as it is)."""

    def decide(member):
        if item.get("removed"):
            return (REMOVED, None) if member["install_state"] in REMOVABLE_STATES else None
        if member["install_state"] in REMOVAL_STATES:
            return None
        state = DDM_STATES.get(item.get("state"))
        if state is None:
            return None
        error = reasons_text(item.get("reasons")) if state == INSTALL_FAILED else None
        return state, error

    return decide


def reasons_text(reasons):
    """The reasons of a failed declaration as one line (``code: description``)."""
    parts = []
    for reason in reasons or ():
        if isinstance(reason, dict):
            text = ": ".join(str(reason[key]) for key in ("code", "description") if reason.get(key))
            parts.append(text or str(reason))
        else:
            parts.append(str(reason))
    return "; ".join(parts) or None


def ddm_status(item):
    """The status an ``app.managed.list`` item is reported with: ``ddm:<state>`` or ``ddm:removed``."""
    return DDM_STATUS_PREFIX + ("removed" if item.get("removed") else str(item.get("state")))


def receipts(answer):
    """``(command_uuid, status, key, decide)`` for each record this answer makes (none for Idle); ``key`` is the
    status the answer is recorded under, so that a repeated delivery is applied once.

    A status report names each app by its bundle id (``identifier``; a removed app has nothing else, §1.7): that is
    the ``command_uuid`` of the members a declaration went to. Its items are recorded per report (the webhook's
    ``event_id``): the same state may come again in a later report (installed, removed, installed again).
    """
    if answer.get("status_report") is not None:
        report = answer.get("event_id")
        return [
            (
                item["identifier"],
                ddm_status(item),
                "%s@%s" % (ddm_status(item), report) if report else ddm_status(item),
                ddm_decide(item),
            )
            for item in mdm_answers.ddm_app_states(answer["status_report"])
        ]
    if not answer.get("command_uuid"):
        return []
    return [(answer["command_uuid"], answer["status"], answer["status"], command_decide(answer))]


def member_event(answer, command_uuid, status, member, error):
    """The event of one member whose install state changed."""
    return {
        "vpp": {
            "kind": EVENT_KIND,
            "matched": True,
            "topic": answer.get("topic"),
            "status": status,
            "enrollment_id": answer.get("enrollment_id"),
            "command_uuid": command_uuid,
            "deployment": member["deployment"],
            "member_id": member["member_id"],
            "action": member["action"],
            "install_state": member["after"],
            "install_state_before": member["before"],
            "error": error,
        }
    }


def unmatched_event(answer, command_uuid, status):
    """The event of an answer no member waits on."""
    return {
        "vpp": {
            "kind": EVENT_KIND,
            "matched": False,
            "topic": answer.get("topic"),
            "status": status,
            "enrollment_id": answer.get("enrollment_id"),
            "command_uuid": command_uuid,
        }
    }


def remembering_decide(decide, errors, waiting):
    """``decide`` that also notes each member it was asked about (``waiting``) and the error it decided."""

    def remembering(member):
        waiting.append(member)
        decision = decide(member)
        if decision is not None:
            errors[member["member_id"], member["deployment"]] = decision[1]
        return decision

    return remembering


def record_answer(store, answer):
    """Record a parsed webhook answer in the store; return the events it makes (none for a duplicate).

    A ``TokenUpdate`` check-in says the MDM can reach the enrollment now: members whose install it refused as an
    unknown enrollment go back to nothing sent (the next run sends them the install), one event each.
    """
    events = []
    enrollment_id = answer.get("enrollment_id") or answer.get("udid")
    if answer.get("topic") == ENROLLED_TOPIC and enrollment_id:
        for member in store.forget_refusals(enrollment_id, UNKNOWN_ENROLLMENT):
            events.append(member_event(answer, None, answer.get("topic"), member, None))
        return events
    for command_uuid, status, key, decide in receipts(answer):
        errors = {}
        waiting = []
        remembering = remembering_decide(decide, errors, waiting)
        outcome = store.record_mdm_answer(command_uuid, enrollment_id, key, remembering)
        if outcome["duplicate"]:
            continue
        for member in outcome["members"]:
            error = errors.get((member["member_id"], member["deployment"]))
            events.append(member_event(answer, command_uuid, status, member, error))
        if not waiting:
            events.append(unmatched_event(answer, command_uuid, status))
    return events
