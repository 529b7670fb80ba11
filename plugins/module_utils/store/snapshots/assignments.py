# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The snapshot of a token's assignments: staged keys merged into the live table (and audited) in SQL."""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils.store.rows import checked_assignment_key
from ansible_collections.mdm.vpp.plugins.module_utils.store.snapshots.base import Snapshot
from ansible_collections.mdm.vpp.plugins.module_utils.timestamps import now_timestamp

# The key columns of a staged assignment (a token's staging table holds no token_id).
ASSIGNMENT_COLUMNS = ("adam_id", "pricing_param", "target_kind", "target_id")


def _same_assignment(live, staged):
    """Correlated "same assignment" condition between a live row and a staged one (table aliases)."""
    return " AND ".join("%s.%s = %s.%s" % (live, name, staged, name) for name in ASSIGNMENT_COLUMNS)


class AssignmentSnapshot(Snapshot):
    """Sync of a token's assignments: rows are dicts with adam_id, pricing_param, target_kind, target_id."""

    staging_table = "staged_assignments"
    staging_columns = ", ".join("%s TEXT NOT NULL" % name for name in ASSIGNMENT_COLUMNS)
    staging_width = len(ASSIGNMENT_COLUMNS)
    insert_staging_sql = "INSERT INTO staged_assignments (%s) VALUES %%s" % ", ".join(ASSIGNMENT_COLUMNS)

    def staging_values(self, row):
        return checked_assignment_key(row)

    def add_keys(self, keys):
        """Stage assignments given as (adam_id, pricing_param, target_kind, target_id) tuples: a sync's fast path.

        Unlike ``add_rows()`` nothing is checked here; the live table's constraints refuse a bad key at
        ``finish()``.
        """
        self.stage(keys)

    def add_key_lists(self, key_lists):
        """``add_keys()`` of keys given as lists (e.g. one a page of Apple's listing): no re-batching in Python."""
        self.stage_lists(key_lists)

    def finish(self, version_id=None, run_id=None, audit=True, remove_missing=True):
        """Make the staged rows the token's assignments in one transaction; return ``{"added", "removed"}``.

        The diff runs in SQL (memory stays flat); rows Apple listed twice count once. Each change is audited
        unless ``audit`` is false (e.g. the first import). ``remove_missing=False`` (a delta) only adds.
        ``version_id`` (page 0's versionId) is stored in the same transaction.
        """
        db, token_id, key = self.db, self.token_id, ", ".join(ASSIGNMENT_COLUMNS)
        audit_sql = (
            "INSERT INTO audit (token_id, recorded_at, run_id, origin, kind, adam_id, pricing_param, target_kind, "
            "target_id) SELECT ?, ?, ?, 'apple', ?, %s " % key
        )
        with db.transaction():
            now, removed = now_timestamp(), 0
            has_live_rows = self.token_has_rows("assignments")
            if remove_missing and has_live_rows:
                # one sorted index build now, instead of an index updated in random order while pages arrived
                db.execute("CREATE INDEX staged_assignments_by_key ON staged_assignments (%s)" % key)
                missing = (
                    "FROM assignments a WHERE a.token_id = ? AND NOT EXISTS (SELECT 1 FROM staged_assignments s "
                    "WHERE %s)" % _same_assignment("a", "s")
                )
                if audit:
                    db.execute(audit_sql + missing, (token_id, now, run_id, "assignment_removed", token_id))
                removed = db.execute(
                    "DELETE FROM assignments WHERE token_id = ? AND NOT EXISTS (SELECT 1 FROM staged_assignments s "
                    "WHERE %s)" % _same_assignment("assignments", "s"),
                    (token_id,),
                ).rowcount
            # "WHERE true": SQLite would otherwise read the ON CONFLICT below as a join constraint of the SELECT
            new, new_params = "FROM staged_assignments s WHERE true ", ()
            if has_live_rows:
                new = (
                    "FROM staged_assignments s WHERE NOT EXISTS (SELECT 1 FROM assignments a WHERE a.token_id = ? AND "
                )
                new += _same_assignment("a", "s") + ") "
                new_params = (token_id,)
            if audit:  # one audit row for each new assignment, however often Apple listed it
                db.execute(
                    audit_sql + new + "GROUP BY " + key, (token_id, now, run_id, "assignment_added", *new_params)
                )
            # The rows in key order, so the live index grows at its end; a row Apple listed twice is inserted once
            # (DO NOTHING applies to the primary key only: a bad key is still refused). A sort without GROUP BY:
            # a fifth less CPU at a million rows.
            added = db.execute(
                "INSERT INTO assignments (token_id, %s) SELECT ?, %s %sORDER BY %s ON CONFLICT DO NOTHING"
                % (key, key, new, key),
                (token_id, *new_params),
            ).rowcount
            self.finish_common("assignments_version", version_id)
        return {"added": added, "removed": removed}
