# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The events of the store: Apple's events we wait on, and intents (write requests recorded before sending)."""

from __future__ import annotations

import secrets

from ansible_collections.mdm.vpp.plugins.module_utils.errors import StoreError
from ansible_collections.mdm.vpp.plugins.module_utils.store.repos.deployments import deployment_id
from ansible_collections.mdm.vpp.plugins.module_utils.store.repos.tokens import token_id
from ansible_collections.mdm.vpp.plugins.module_utils.store.rows import encode
from ansible_collections.mdm.vpp.plugins.module_utils.timestamps import now_timestamp
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import FINISHED_EVENT_STATES, PENDING_EVENT_STATE

INTENT_STATUS = "SENDING"  # an event row recorded before its request was sent (see EventsRepo.record_intent)

EVENT_SELECT = (
    "SELECT e.event_id, t.name AS token, d.name AS deployment, e.event_type, e.request, e.status, "
    "e.submitted_at, e.completed_at, e.result FROM events e JOIN tokens t ON t.id = e.token_id "
    "LEFT JOIN deployments d ON d.id = e.deployment_id"
)


class EventsRepo:
    """Mixin of ``Store``: submitted events and intents (needs ``self.db``)."""

    def record_event(self, token, event_id, event_type, deployment=None, request=None):
        """Persist an event Apple accepted (status PENDING) before anyone waits on it; return it.

        ``request`` is a JSON-able summary of what was asked (ids and counts, never a secret).
        """
        self._insert_event(token, deployment, event_id, event_type, PENDING_EVENT_STATE, request)
        return self.get_event(token, event_id)

    def record_intent(self, token, event_type, deployment=None, request=None):
        """Persist what a write request is about to ask, *before* it is sent; returns the intent's id.

        An intent is an event row with status ``SENDING`` and an id of our own (``intent-...``): a run killed while
        Apple's answer was on its way leaves it, and the next run reconciles with Apple before planning.
        """
        intent_id = "intent-" + secrets.token_hex(16)
        self._insert_event(token, deployment, intent_id, event_type, INTENT_STATUS, request)
        return intent_id

    def _insert_event(self, token, deployment, event_id, event_type, status, request):
        values = {
            "event_id": event_id,
            "event_type": event_type,
            "request": encode("request", request or {}),
            "status": status,
            "submitted_at": now_timestamp(),
        }
        with self.db.transaction():
            values["token_id"] = token_id(self.db, token)
            if deployment is not None:
                values["deployment_id"] = deployment_id(self.db, deployment)
            self.db.insert("events", values)

    def drop_intent(self, token, intent_id):
        """Forget an intent (its request was answered, or reconciled after a crash)."""
        with self.db.transaction():
            self.db.execute(
                "DELETE FROM events WHERE token_id = ? AND event_id = ? AND status = ?",
                (token_id(self.db, token), intent_id, INTENT_STATUS),
            )

    def intents(self, deployment):
        """Intents of ``deployment`` left by a run that never heard Apple's answer, oldest first."""
        sql = EVENT_SELECT + " WHERE e.status = ? AND d.name = ? ORDER BY e.id"
        return self.db.fetch_all(sql, (INTENT_STATUS, deployment))

    def update_event(self, token, event_id, status, result=None):
        """Set an event's status (PENDING, COMPLETE, FAILED) and result; finished ones get completed_at."""
        values = {"status": status, "result": encode("result", result)}
        if status in FINISHED_EVENT_STATES:
            values["completed_at"] = now_timestamp()
        with self.db.transaction():
            where, params = "token_id = ? AND event_id = ?", (token_id(self.db, token), event_id)
            if not self.db.update("events", values, where, params).rowcount:
                raise StoreError("event %r of token %r was never recorded" % (event_id, token))
        return self.get_event(token, event_id)

    def get_event(self, token, event_id):
        """One recorded event of ``token`` or None."""
        return self.db.fetch_one(EVENT_SELECT + " WHERE t.name = ? AND e.event_id = ?", (token, event_id))

    def pending_events(self, deployment=None, token=None):
        """Events still PENDING (of one deployment and/or token), oldest first: resume by polling them."""
        sql, params = EVENT_SELECT + " WHERE e.status = ?", [PENDING_EVENT_STATE]
        if deployment is not None:
            sql += " AND d.name = ?"
            params.append(deployment)
        if token is not None:
            sql += " AND t.name = ?"
            params.append(token)
        return self.db.fetch_all(sql + " ORDER BY e.id", params)
