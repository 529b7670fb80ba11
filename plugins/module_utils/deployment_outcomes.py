# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting for a deployment's Apple events and recording their outcomes: members licensed, reclaimed or failed.

Events earlier runs submitted are polled again on the next run (``resume``); an associate or disassociate still
PENDING 10 minutes after it was submitted is submitted again, as Apple advises. ``DeploymentOutcomes`` is a part of
``deployment_run.DeploymentRun`` and uses its state (``store``, ``client``, ``identity``, ``name``, ``outcome``...).
"""

from __future__ import annotations

import collections
import time

from ansible_collections.mdm.vpp.plugins.module_utils.errors import EventTimeoutError
from ansible_collections.mdm.vpp.plugins.module_utils.events import (
    FIRST_POLL,
    STORE_LOOK_INTERVAL,
    event_batches,
    finished_result,
    first_status_read,
    notifications_configured,
    pending_error,
)
from ansible_collections.mdm.vpp.plugins.module_utils.license_outcomes import (
    outcome_updates,
    record_holders,
    replay_notifications,
)
from ansible_collections.mdm.vpp.plugins.module_utils.licensing import creation_succeeded, target_of
from ansible_collections.mdm.vpp.plugins.module_utils.timestamps import parse_timestamp, utc_now
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import (
    EVENT_TYPE_ASSOCIATE,
    EVENT_TYPE_CREATE,
    EVENT_TYPE_DISASSOCIATE,
)

RESUBMIT_AFTER = 600  # Apple: an event still PENDING after 10 minutes is submitted again
SUPERSEDED = "SUPERSEDED"  # a stale event whose request was submitted again


def is_stale(event, now):
    """Whether a stored associate/disassociate has been PENDING long enough to be submitted again."""
    if event["event_type"] not in (EVENT_TYPE_ASSOCIATE, EVENT_TYPE_DISASSOCIATE):
        return False
    return (now - parse_timestamp(event["submitted_at"])).total_seconds() >= RESUBMIT_AFTER


def batch_from_event(event):
    """A stored event as the batch ``client.wait_for_events`` maps outcomes with."""
    request = event.get("request") or {}
    batch = {"event_id": event["event_id"], "type": event["event_type"], "assets": request.get("assets") or []}
    if event["event_type"] == EVENT_TYPE_CREATE:
        batch["users"] = [{"clientUserId": user_id} for user_id in request.get("client_user_ids") or ()]
    else:
        batch["client_user_ids"] = request.get("client_user_ids") or []
        batch["serial_numbers"] = request.get("serial_numbers") or []
    return batch


def event_summary(result):
    """What the store keeps of a finished event: Apple's counts and failures (ids only, no secret)."""
    return {
        "num_requested": result.get("num_requested"),
        "num_completed": result.get("num_completed"),
        "failures": result.get("failures") or [],
    }


class DeploymentOutcomes:
    """The waiting part of a deployment run: resume earlier events, wait for new ones, record their outcomes."""

    def resume(self):
        """Poll the events earlier runs submitted and recorded; apply their outcomes.

        An associate or disassociate still PENDING 10 minutes after it was submitted is submitted again, as Apple
        advises; the old event is kept as ``SUPERSEDED`` and polled no more.
        """
        events = self.store.pending_events(deployment=self.name)
        if not events:
            return
        stale = {event["event_id"] for event in events if is_stale(event, utc_now())}
        batches = [batch_from_event(event) for event in events]
        if stale:
            looked = self.wait([batch for batch in batches if batch["event_id"] in stale], None)
            batches = [batch for batch in batches if batch["event_id"] not in stale]
            batches += self.resubmit([event for event in events if event["event_id"] in stale - set(looked)])
        creations = {batch["event_id"] for batch in batches if batch["type"] == EVENT_TYPE_CREATE}
        timeout = self.params["wait_timeout"] if self.params["wait"] else None
        results = self.wait(batches, timeout)
        created = [
            outcome["client_user_id"]
            for event_id, result in results.items()
            if event_id in creations
            for outcome in result["outcomes"]
            if creation_succeeded(outcome)
        ]
        self.refresh_users(created)

    def resubmit(self, events):
        """Submit the stale events' requests again for their members still pending; returns the new batches."""
        batches = []
        for event in events:
            rows = [
                row
                for row in self.store.list_members(self.name, state="pending")
                if row["event_id"] == event["event_id"]
            ]
            entries = []
            for row in rows:
                target = target_of(row, row["license_type"], self.collection["type"])
                if target is not None:
                    entries.append({"member_id": row["member_id"], "license_type": target[0], "target_id": target[1]})
            self.store.update_event(self.identity["token"], event["event_id"], SUPERSEDED)
            batches += self.submit(event["event_type"], entries)
        return batches

    def _wait_for_events(self, batches, timeout):
        # events of this run are read soon after submitting, those of an earlier run at once
        fresh = any(batch["event_id"] in self.outcome["pending_event_ids"] for batch in batches)
        first_poll = FIRST_POLL if fresh else 0
        token = self.identity["token"]
        if notifications_configured(self.store.get_notification_settings(token), self.store.has_notifications(token)):
            return self.wait_notified(batches, timeout, first_poll)
        return self.client.wait_for_events(batches, timeout=timeout, first_poll=first_poll)

    def wait_notified(self, batches, timeout, first_poll):
        """Wait on events of a token Apple notifies: the outcomes its notifications record in the store first
        (``vpp_events``), ``GET /status`` only as Apple advises (``events.first_status_read``, then every poll
        interval). Returns the results of the events read from Apple (to ``apply``); those notifications finished
        are taken from the store into this run's outcome. ``EventTimeoutError`` as ``client.wait_for_events``."""
        token = self.identity["token"]
        by_id = event_batches(batches)
        start = time.monotonic()
        due = {}
        for event_id, batch in by_id.items():
            event = self.store.get_event(token, event_id)
            age = (utc_now() - parse_timestamp(event["submitted_at"])).total_seconds() if event else 0.0
            due[event_id] = start + first_status_read(batch["type"], age, True, first_poll, timeout)
        deadline, results, pending = start + timeout, {}, list(by_id)
        while True:
            replay_notifications(self.store, token, pending)
            finished = self.store.finished_events(token, pending)
            self.take_notified(finished)
            pending = [event_id for event_id in pending if event_id not in finished]
            now = time.monotonic()
            for event_id in [event_id for event_id in pending if due[event_id] <= now]:
                result = finished_result(event_id, self.client.event_status(event_id), by_id[event_id])
                due[event_id] = now + self.client.poll_interval
                if result is not None:
                    self.take_notified([event_id])  # members notifications already gave their outcome
                    results[event_id] = result
                    pending.remove(event_id)
            if not pending:
                return collections.OrderedDict((key, results[key]) for key in by_id if key in results)
            next_look = min([now + STORE_LOOK_INTERVAL] + [due[event_id] for event_id in pending])
            if next_look > deadline:
                raise pending_error(pending, timeout, results)
            time.sleep(max(next_look - time.monotonic(), 0))

    def take_notified(self, events):
        """Events notifications finished in the store: their members' outcomes into this run's result."""
        if not events:
            return
        self.changed = True
        for event_id in events:
            for row in self.store.event_members(self.identity["token"], event_id):
                if row["deployment"] != self.name:
                    continue
                if row["state"] == "failed":
                    self.note_failure(row["member_id"], row["error_number"], row["error_message"])
                elif row["state"] in ("licensed", "reclaimed"):
                    self.outcome[row["state"]].append(row["member_id"])
                    self.failed.pop(row["member_id"], None)
            if event_id in self.outcome["pending_event_ids"]:
                self.outcome["pending_event_ids"].remove(event_id)

    def wait(self, batches, timeout):
        """Wait for events (``timeout`` None: look once, leave the rest pending) and record their outcomes."""
        types = {batch["event_id"]: batch["type"] for batch in batches}
        try:
            results = self._wait_for_events(batches, 0 if timeout is None else timeout)
        except EventTimeoutError as err:
            self.apply(err.results, types)
            if timeout is None:
                return err.results
            pending = err.details["pending_event_ids"]
            err.msg = (
                "deployment %r: %d Apple event(s) still pending after %ss (%s); they are stored and the members "
                "stay pending" % (self.name, len(pending), timeout, ", ".join(pending))
            )
            err.args = (err.msg,)
            err.details.update(self.result_details(), pending_event_ids=pending)
            raise
        self.apply(results, types)
        return results

    def apply(self, results, types):
        """Record finished events: members licensed / reclaimed / failed, assignments added / removed."""
        if not results:
            return
        self.changed = True
        identity, store = self.identity, self.store
        pending = {}
        for row in store.list_members(self.name, state="pending"):
            pending.setdefault(row["event_id"], []).append(row)
        with store.transaction():
            for event_id, result in results.items():
                event_type = types[event_id]
                store.update_event(identity["token"], event_id, result["status"], result=event_summary(result))
                if event_type != EVENT_TYPE_CREATE:
                    self._apply_outcomes(event_type, result["outcomes"], pending.get(event_id, ()))
                if event_id in self.outcome["pending_event_ids"]:
                    self.outcome["pending_event_ids"].remove(event_id)

    def record_holders(self, gained, lost):
        """Assignments given and taken back into the store, with the app's counts moved (``record_holders``)."""
        record_holders(self.store, self.identity["token"], gained, lost)

    def _apply_outcomes(self, event_type, outcomes, members):
        identity = self.identity
        rows, assignments = outcome_updates(
            event_type, outcomes, members, self.collection["type"], (identity["adam_id"], identity["pricing_param"])
        )
        for row in rows:
            if row["state"] == "failed":
                self.note_failure(row["member_id"], row["error_number"], row["error_message"])
            else:
                self.outcome[row["state"]].append(row["member_id"])
                self.failed.pop(row["member_id"], None)
        # in bulk: one event may carry 1,000 devices, a deployment 100,000 (docs/BENCHMARKS.md, B5)
        if event_type == EVENT_TYPE_ASSOCIATE:
            self.record_holders(assignments, ())
        else:
            self.record_holders((), assignments)
        if rows:
            self.store.upsert_members(self.name, rows)
