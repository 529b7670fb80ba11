# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waiting for a deployment's Apple events and recording their outcomes: members licensed, reclaimed or failed.

Events earlier runs submitted are polled again on the next run (``resume``); an associate or disassociate still
PENDING 10 minutes after it was submitted is submitted again, as Apple advises. ``DeploymentOutcomes`` is a part of
``deployment_run.DeploymentRun`` and uses its state (``store``, ``client``, ``identity``, ``name``, ``outcome``...).
"""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils.errors import EventTimeoutError
from ansible_collections.mdm.vpp.plugins.module_utils.events import FIRST_POLL
from ansible_collections.mdm.vpp.plugins.module_utils.licensing import creation_succeeded, target_of
from ansible_collections.mdm.vpp.plugins.module_utils.timestamps import parse_timestamp, utc_now
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import (
    EVENT_TYPE_ASSOCIATE,
    EVENT_TYPE_CREATE,
    EVENT_TYPE_DISASSOCIATE,
    outcome_target_key,
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
        return self.client.wait_for_events(batches, timeout=timeout, first_poll=FIRST_POLL if fresh else 0)

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
