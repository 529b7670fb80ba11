# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apple's asynchronous events read back: per-member outcomes, results, and the pure parts of waiting for them."""

from __future__ import annotations

import collections

from ansible_collections.mdm.vpp.plugins.module_utils.batches import batch_members
from ansible_collections.mdm.vpp.plugins.module_utils.errors import EventTimeoutError
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import FAILED_EVENT_STATE, FINISHED_EVENT_STATES

FIRST_POLL = 1.0  # Apple: read a new event's status soon after submitting it...
POLL_INTERVAL = 30.0  # ...then at least 30 s between polls while it is PENDING
EVENTS_IN_FLIGHT = 5  # status reads at once (each under the token's rate limit)
# With Apple's notifications configured: rely on them; read the status of an associate / disassociate that none
# finished within 5 minutes of its submission (Apple's guidance, reference §9), then every poll interval.
NOTIFICATION_GRACE = 300.0
STORE_LOOK_INTERVAL = 0.2  # how often a waiting run looks in the store for outcomes notifications recorded
NOTIFIED_TYPES = ("ASSET_MANAGEMENT",)  # the notification type that finishes license events
NOTIFIED_EVENT_TYPES = ("ASSOCIATE", "DISASSOCIATE")  # the events a deployment waits on that it finishes


def _failure_covers(failure, member):
    """Whether one of Apple's failure entries applies to a batch member (absent lists mean "all")."""
    info = failure.get("errorInfo") or {}
    listed_assets = info.get("assets")
    if listed_assets and "adam_id" in member:
        # errorInfo may omit pricingParam; then the adamId alone identifies the asset
        matches = any(
            str(asset.get("adamId")) == member["adam_id"]
            and asset.get("pricingParam", member["pricing_param"]) == member["pricing_param"]
            for asset in listed_assets
        )
        if not matches:
            return False
    listed_users = info.get("clientUserIds")
    listed_serials = info.get("serialNumbers")
    if not listed_users and not listed_serials:
        return True
    if "client_user_id" in member:
        return member["client_user_id"] in (listed_users or ())
    return member["serial_number"] in (listed_serials or ())


def outcomes_for(batch, status):
    """Per-member outcome of a finished event: ``succeeded`` plus Apple's ``error_number``/``error_message``.

    ``status`` is Apple's ``StatusResponse``. A ``FAILED`` event whose failures name no member of the batch
    marks every member failed, so that nothing is reported as done when Apple gave no detail.
    """
    failures = status.get("failures") or []
    outcomes = []
    for member in batch_members(batch):
        outcome = dict(member, succeeded=True, error_number=None, error_message=None)
        for failure in failures:
            if _failure_covers(failure, member):
                outcome.update(
                    succeeded=False, error_number=failure.get("errorNumber"), error_message=failure.get("errorMessage")
                )
                break
        outcomes.append(outcome)
    if status.get("eventStatus") == FAILED_EVENT_STATE and all(outcome["succeeded"] for outcome in outcomes):
        first = failures[0] if failures else {}
        for outcome in outcomes:
            outcome.update(
                succeeded=False,
                error_number=first.get("errorNumber"),
                error_message=first.get("errorMessage") or "Apple reported the event as FAILED",
            )
    return outcomes


def event_result(status, batch=None):
    """A finished event in the collection's spelling, with per-member outcomes when the batch is known."""
    result = {
        "status": status.get("eventStatus"),
        "type": status.get("eventType"),
        "num_requested": status.get("numRequested"),
        "num_completed": status.get("numCompleted"),
        "failures": [
            {
                "error_number": failure.get("errorNumber"),
                "error_message": failure.get("errorMessage"),
                "error_info": failure.get("errorInfo") or {},
            }
            for failure in status.get("failures") or []
        ],
    }
    if batch is not None:
        result["event_id"] = batch["event_id"]
        result["outcomes"] = outcomes_for(batch, status)
    return result


def event_batches(events):
    """``{event_id: batch or None}`` in the given order, from event ids or the batches the writers return."""
    batches = collections.OrderedDict()
    for event in events:
        batch = event if isinstance(event, dict) else None
        batches.setdefault(batch["event_id"] if batch else event, batch)
    return batches


def finished_result(event_id, status, batch):
    """The result of an event whose ``StatusResponse`` is ``status``, or ``None`` while it is still pending."""
    if status.get("eventStatus") not in FINISHED_EVENT_STATES:
        return None
    return dict(event_result(status, batch), event_id=event_id)


def pending_error(pending, timeout, results):
    """The ``EventTimeoutError`` naming the still-pending event ids; ``results`` holds those that did finish."""
    err = EventTimeoutError(
        "%d Apple event(s) still pending after %ss: %s" % (len(pending), timeout, ", ".join(pending)),
        details={"pending_event_ids": pending},
    )
    err.results = results
    return err


def notifications_configured(settings, received):
    """Whether a run may rely on Apple's notifications of the token's license events: a ``notification_url`` is set,
    its types (``Store.get_notification_settings``; None: every type) include ASSET_MANAGEMENT, and the store has
    ``received`` at least one notification of the token (the TEST_NOTIFICATION when the settings were saved, if
    ``vpp_events`` on this store took it): notifications another receiver takes never reach this store."""
    if not received or not settings or not settings.get("url"):
        return False
    types = settings.get("types")
    return types is None or any(kind in types for kind in NOTIFIED_TYPES)


def first_status_read(event_type, age, notified, first_poll, timeout):
    """Seconds from now until the first ``GET /status`` of an event submitted ``age`` seconds ago.

    A notified associate / disassociate is read only once the notification grace has passed since its submission;
    any other event as without notifications: ``first_poll`` after submitting (at most ``timeout``, so that a run
    that only looks once still reads it once).
    """
    if notified and event_type in NOTIFIED_EVENT_TYPES:
        return max(NOTIFICATION_GRACE - age, 0.0)
    return max(min(first_poll, timeout), 0.0)
