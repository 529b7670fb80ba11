# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The events mdm.vpp's event sources put on ansible-rulebook's queue: one vocabulary for Apple's notifications
(``vpp_events``) and the poller (``vpp_changes``), so a rule matches a fact whichever source saw it first.

Every event is ``{"vpp": {"kind": ..., "token": <token name>, "source": ..., ...facts}}``: one event per fact,
never a secret (no content token, no notification secret, no key).
"""

from __future__ import annotations

# The kinds of fact.
LICENSE_COUNT = "license_count"  # an app's license counts changed (ASSET_COUNT, or a sync saw them change)
LICENSE_OUTCOME = "license_outcome"  # Apple's outcome of an associate/disassociate/revoke (ASSET_MANAGEMENT)
USER_CHANGED = "user_changed"  # Apple's outcome of a user's create/update/retire (USER_MANAGEMENT)
USER_ASSOCIATED = "user_associated"  # a user accepted the invitation (USER_ASSOCIATED)
TOKEN_STATE = "token_state"  # a token became expiring, expired, revoked or claimed_elsewhere (or valid again)
MDM_ANSWER = "mdm_answer"  # a device answered an MDM command or reported a declaration (mdm_receipts)
KINDS = (LICENSE_COUNT, LICENSE_OUTCOME, USER_CHANGED, USER_ASSOCIATED, TOKEN_STATE, MDM_ANSWER)

# Who saw the fact.
FROM_APPLE = "apple_notification"
FROM_POLL = "sync"
FROM_MDM = "mdm_webhook"

# An app is low when its available licenses are at most this many (the sources' ``low_threshold`` option).
DEFAULT_LOW_THRESHOLD = 5
COUNT_FIELDS = ("total", "assigned", "available")


def vpp_event(kind, token, source, **facts):
    """One event: the fact ``kind`` about token ``token`` (its name) seen by ``source``, with ``facts``."""
    fields = {"kind": kind, "token": token, "source": source}
    fields.update(facts)
    return {"vpp": fields}


def app_fact(adam_id, pricing_param, name=None):
    """The app an event is about: Apple's ids and the name the store knows (None before the first sync)."""
    return {"adam_id": str(adam_id), "pricing_param": pricing_param, "name": name}


def counts_fact(counts):
    """``total``/``assigned``/``available`` of a stored asset row or dict (0 when absent)."""
    counts = counts or {}
    return {field: int(counts.get(field) or counts.get(field + "_count") or 0) for field in COUNT_FIELDS}


def is_low(counts, threshold):
    """Whether an app with ``counts`` (a ``counts_fact``) is low: it has licenses and at most ``threshold`` left."""
    return threshold is not None and counts["total"] > 0 and counts["available"] <= threshold


def license_count_event(token, source, app, before, after, threshold=DEFAULT_LOW_THRESHOLD):
    """An app's counts went from ``before`` to ``after`` (``counts_fact``s); ``low`` by ``threshold``, and
    ``became_low`` when it was not low before (a rule that messages once per shortage matches that)."""
    return vpp_event(
        LICENSE_COUNT,
        token,
        source,
        app=app,
        counts_before=before,
        counts=after,
        delta=after["total"] - before["total"],
        low=is_low(after, threshold),
        became_low=is_low(after, threshold) and not is_low(before, threshold),
        low_threshold=threshold,
    )


def token_state_event(token, source, state, state_before, expires_at=None, days_left=None):
    """Token ``token`` is now in ``state`` (a ``token_facts.STATUSES`` word), was ``state_before``."""
    return vpp_event(
        TOKEN_STATE, token, source, state=state, state_before=state_before, expires_at=expires_at, days_left=days_left
    )
