# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apple's notifications applied: each recorded once per token, the license counts they move, and the members of
the events they finish."""

from __future__ import annotations

import json

from ansible_collections.mdm.vpp.plugins.module_utils.store.repos.audit import audit_rows
from ansible_collections.mdm.vpp.plugins.module_utils.store.repos.tokens import token_id
from ansible_collections.mdm.vpp.plugins.module_utils.store.rows import COUNT_FIELDS, batches
from ansible_collections.mdm.vpp.plugins.module_utils.timestamps import now_timestamp
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import FINISHED_EVENT_STATES

# The deployment members an event was sent for and still wait on it, with their deployment.
EVENT_MEMBERS = (
    "SELECT d.name AS deployment, d.collection_type, ap.adam_id, ap.pricing_param, dm.member_id, dm.device_user, "
    "dm.license_type, dm.state, dm.error_number, dm.error_message, dm.event_id FROM deployment_members dm "
    "JOIN deployments d ON d.id = dm.deployment_id JOIN applications ap ON ap.id = d.application_id "
    "JOIN events e ON e.deployment_id = d.id AND e.event_id = dm.event_id "
    "WHERE dm.event_id = ? AND e.token_id = ?"  # members_by_event finds them
)


def count_values(row):
    return {name: row[name] for name in COUNT_FIELDS}


class NotificationsRepo:
    """Mixin of ``Store``: Apple's notifications received (needs ``self.db``)."""

    def claim_notification(self, token, notification_id, notification_type, event_id=None):
        """Record notification ``notification_id`` of ``token`` as applied; False when it already was (a repeated
        delivery: apply nothing). Call it in the transaction that applies the notification, so that two deliveries
        at once apply it once."""
        with self.db.transaction():
            cursor = self.db.execute(
                "INSERT INTO apple_notifications (token_id, notification_id, notification_type, event_id, "
                "received_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (token_id, notification_id) DO NOTHING",
                (token_id(self.db, token), notification_id, notification_type, event_id, now_timestamp()),
            )
            return cursor.rowcount > 0

    def count_notifications(self, token=None):
        """How many notifications were applied (of one token when given)."""
        if token is None:
            return self.db.scalar("SELECT COUNT(*) FROM apple_notifications")
        return self.db.scalar(
            "SELECT COUNT(*) FROM apple_notifications WHERE token_id = ?", (token_id(self.db, token),)
        )

    def has_notifications(self, token):
        """Whether any notification of ``token`` was received into this store (the receiver works for it)."""
        found = token_id(self.db, token, required=False)
        return self.db.scalar("SELECT 1 FROM apple_notifications WHERE token_id = ? LIMIT 1", (found,)) is not None

    def forget_notifications(self, before):
        """Forget the notifications received before ``before`` (a store timestamp), but each token's newest: it
        says that this store's receiver works for the token (``has_notifications``). Returns how many went."""
        # the newest of each token found once, not in every batch's statement (a year's backlog is many batches)
        newest = self.db.fetch_all("SELECT MAX(id) AS id FROM apple_notifications GROUP BY token_id")
        if not newest:
            return 0
        kept = ", ".join("?" * len(newest))
        return self.db.delete_in_batches(
            "apple_notifications", "received_at < ? AND id NOT IN (%s)" % kept, (before, *(row["id"] for row in newest))
        )

    def change_asset_total(self, token, adam_id, pricing_param, delta):
        """Apply Apple's ``countDelta`` to an asset's total and available counts (neither below 0; an unlimited
        asset's stay); audited as Apple's. Returns ``(counts before, counts after)``, or None when the asset is not
        synced (nothing is created: the next sync brings it)."""
        with self.db.transaction():
            found = token_id(self.db, token)
            where = "token_id = ? AND adam_id = ? AND pricing_param = ?"
            params = (found, str(adam_id), pricing_param)
            before = self.db.fetch_one(
                "SELECT %s, unlimited FROM assets WHERE %s" % (", ".join(COUNT_FIELDS), where), params
            )
            if before is None:
                return None
            after = count_values(before)
            if not before["unlimited"]:
                after["total_count"] = max(before["total_count"] + delta, 0)
                after["available_count"] = max(before["available_count"] + delta, 0)
            now = now_timestamp()
            self.db.execute(
                "UPDATE assets SET total_count = ?, available_count = ?, updated_at = ? WHERE " + where,
                (after["total_count"], after["available_count"], now, *params),
            )
            key = (str(adam_id), pricing_param, None, None)
            audit_rows(self.db, [(found, now, None, "apple", "asset_count_changed", key, count_values(before), after)])
        return count_values(before), after

    def event_members(self, token, event_id):
        """The members ``token``'s event ``event_id`` was sent for (``deployment``, ``collection_type``,
        ``adam_id``, ``pricing_param``, ``member_id``, ``device_user``, ``license_type``, ``state``), sorted."""
        rows = self.db.fetch_all(EVENT_MEMBERS, (event_id, token_id(self.db, token, required=False)))
        # sorted here: an ORDER BY would lead SQLite to walk the deployment's members in key order instead
        return sorted(rows, key=lambda row: (row["deployment"], row["member_id"]))

    def keep_notification(self, token, notification_id, notification):
        """Keep a parsed notification (JSON-able, no secret) whose event is not recorded yet, for
        ``notifications_kept``."""
        with self.db.transaction():
            self.db.execute(
                "UPDATE apple_notifications SET kept = ? WHERE token_id = ? AND notification_id = ?",
                (json.dumps(notification, sort_keys=True), token_id(self.db, token), notification_id),
            )

    def notifications_kept(self, token, event_ids):
        """``[(notification_id, notification)]`` kept for these events of ``token``, oldest first."""
        found = token_id(self.db, token, required=False)
        kept = []
        for batch in batches(list(event_ids)):
            kept += self.db.fetch_all(
                "SELECT id, notification_id, kept FROM apple_notifications WHERE token_id = ? AND kept IS NOT NULL "
                "AND event_id IN (%s)" % ", ".join("?" * len(batch)),
                [found, *batch],
            )
        return [(row["notification_id"], json.loads(row["kept"])) for row in sorted(kept, key=lambda row: row["id"])]

    def release_notification(self, token, notification_id):
        """Mark a kept notification applied; False when another run already did (apply it only on True)."""
        with self.db.transaction():
            cursor = self.db.execute(
                "UPDATE apple_notifications SET kept = NULL WHERE token_id = ? AND notification_id = ? "
                "AND kept IS NOT NULL",
                (token_id(self.db, token), notification_id),
            )
            return cursor.rowcount > 0

    def finished_events(self, token, event_ids):
        """``{event_id: status}`` of those of ``token``'s events that are COMPLETE or FAILED in the store (a
        notification finished them)."""
        found = token_id(self.db, token, required=False)
        finished = {}
        for batch in batches(list(event_ids)):
            rows = self.db.fetch_all(
                "SELECT event_id, status FROM events WHERE token_id = ? AND status IN (%s) AND event_id IN (%s)"
                % (", ".join("?" * len(FINISHED_EVENT_STATES)), ", ".join("?" * len(batch))),
                [found, *FINISHED_EVENT_STATES, *batch],
            )
            finished.update((row["event_id"], row["status"]) for row in rows)
        return finished
