# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The snapshot of a token's users: staged records (the active one of each user wins) merged and audited."""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils.store.repos.audit import audit_rows
from ansible_collections.mdm.vpp.plugins.module_utils.store.rows import (
    USER_FIELDS,
    batches,
    user_audit_key,
    user_state,
)
from ansible_collections.mdm.vpp.plugins.module_utils.store.snapshots.base import Snapshot
from ansible_collections.mdm.vpp.plugins.module_utils.timestamps import now_timestamp
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import ACTIVE_USER_STATUSES

_ACTIVE_USER_STATUSES_SQL = "(%s)" % ", ".join("'%s'" % status for status in ACTIVE_USER_STATUSES)


_STATUS_VALUE = 1 + USER_FIELDS.index("status")  # where the status is in a user's staged values


def _user_values(row):
    return (row["client_user_id"], *map(row.get, USER_FIELDS))


def _is_active(user_values):
    """Whether staged user values (``_user_values``) are those of an active user."""
    return user_values[_STATUS_VALUE] in ACTIVE_USER_STATUSES


def _old_user_state(row):
    return {name: row["old_%s" % name] for name in USER_FIELDS}


def _classify_user_change(row):
    if row["existing"] is None:
        return "added", row["client_user_id"], None, user_state(row)
    return "changed", row["client_user_id"], _old_user_state(row), user_state(row)


def _classify_user_removal(row):
    return "removed", row["client_user_id"], _old_user_state(row), None


class UserSnapshot(Snapshot):
    """Sync of a token's users: rows are dicts with client_user_id and any of ``USER_FIELDS``."""

    staging_table = "staged_users"
    staging_columns = "client_user_id TEXT PRIMARY KEY, %s" % ", ".join("%s TEXT" % name for name in USER_FIELDS)
    staging_width = 1 + len(USER_FIELDS)
    # Apple may list retired records next to the active one for a clientUserId: the active record wins, here
    # across batches and in insert_batch() within one (one statement may not update the same row twice).
    insert_staging_sql = (
        "INSERT INTO staged_users (client_user_id, %s) VALUES %%s ON CONFLICT (client_user_id) "
        "DO UPDATE SET %s WHERE excluded.status IN %s OR COALESCE(staged_users.status, '') NOT IN %s"
        % (
            ", ".join(USER_FIELDS),
            ", ".join("%s = excluded.%s" % (name, name) for name in USER_FIELDS),
            _ACTIVE_USER_STATUSES_SQL,
            _ACTIVE_USER_STATUSES_SQL,
        )
    )

    def staging_values(self, row):
        return _user_values(row)

    def insert_batch(self, batch):
        if len({values[0] for values in batch}) == len(batch):  # the usual batch: each user once
            super().insert_batch(batch)
            return
        chosen = {}
        for values in batch:
            kept = chosen.get(values[0])
            if kept is None or _is_active(values) or not _is_active(kept):
                chosen[values[0]] = values
        super().insert_batch(list(chosen.values()))

    def finish(self, version_id=None, run_id=None, audit=True, remove_missing=True):
        """Make the staged rows the token's users in one transaction; return ``{"added", "changed", "removed"}``."""
        db, dialect, token_id = self.db, self.db.dialect, self.token_id
        differs = " OR ".join(dialect.differs("u.%s" % name, "s.%s" % name) for name in USER_FIELDS)
        old = ", ".join("u.%s AS old_%s" % (name, name) for name in USER_FIELDS)
        new = ", ".join("s.%s" % name for name in USER_FIELDS)
        counts = {"added": 0, "changed": 0, "removed": 0}
        changes_from = (
            "FROM staged_users s LEFT JOIN users u ON u.token_id = ? AND u.client_user_id = s.client_user_id "
            "WHERE u.client_user_id IS NULL OR %s" % differs
        )
        gone_from = (
            "FROM users u WHERE u.token_id = ? AND NOT EXISTS (SELECT 1 FROM staged_users s "
            "WHERE s.client_user_id = u.client_user_id)"
        )
        with db.transaction():
            now = now_timestamp()
            if audit:
                changes = db.stream(
                    "SELECT s.client_user_id, u.client_user_id AS existing, %s, %s %s" % (old, new, changes_from),
                    (token_id,),
                )
                self._audit_stream(changes, counts, run_id, now, audit, _classify_user_change)
            else:
                # an unaudited import needs only the numbers: SQL counts them, no row travels through Python
                found = db.fetch_one(
                    "SELECT COUNT(*) AS total, COUNT(u.client_user_id) AS existing " + changes_from, (token_id,)
                )
                counts.update(added=found["total"] - found["existing"], changed=found["existing"])
            if remove_missing:
                if audit:
                    gone = db.stream("SELECT u.client_user_id, %s %s" % (old, gone_from), (token_id,))
                    self._audit_stream(gone, counts, run_id, now, audit, _classify_user_removal)
                else:
                    counts["removed"] = db.scalar("SELECT COUNT(*) " + gone_from, (token_id,))
                db.execute(
                    "DELETE FROM users WHERE token_id = ? AND NOT EXISTS (SELECT 1 FROM staged_users s "
                    "WHERE s.client_user_id = users.client_user_id)",
                    (token_id,),
                )
            updates = ", ".join("%s = excluded.%s" % (name, name) for name in (*USER_FIELDS, "updated_at"))
            changed_rows = " OR ".join(dialect.differs("users.%s" % name, "excluded.%s" % name) for name in USER_FIELDS)
            # "WHERE true": SQLite would otherwise read ON CONFLICT as a join constraint of the SELECT
            db.execute(
                "INSERT INTO users (token_id, client_user_id, %s, updated_at) SELECT ?, client_user_id, %s, ? "
                "FROM staged_users WHERE true ON CONFLICT (token_id, client_user_id) DO UPDATE SET %s WHERE %s"
                % (", ".join(USER_FIELDS), ", ".join(USER_FIELDS), updates, changed_rows),
                (token_id, now),
            )
            self.finish_common("users_version", version_id)
        return counts

    def _audit_stream(self, rows, counts, run_id, now, audit, classify):
        """Count (and audit, in batches) the user changes a query streams; ``classify`` names each one."""
        for batch in batches(rows):
            entries = [classify(row) for row in batch]
            for kind, _user, _before, _after in entries:
                counts[kind] += 1
            if audit:
                audit_rows(
                    self.db,
                    [
                        (self.token_id, now, run_id, "apple", "user_" + kind, user_audit_key(user), before, after)
                        for kind, user, before, after in entries
                    ],
                )
