# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The license assignments of the store: synced from Apple (snapshots, deltas) or recorded as this manager's."""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils.store.repos.deployments import MEMBER_TARGET
from ansible_collections.mdm.vpp.plugins.module_utils.store.repos.tokens import token_id
from ansible_collections.mdm.vpp.plugins.module_utils.store.rows import asset_selection, batches, checked_assignment_key
from ansible_collections.mdm.vpp.plugins.module_utils.store.snapshots.assignments import (
    ASSIGNMENT_COLUMNS,
    AssignmentSnapshot,
)
from ansible_collections.mdm.vpp.plugins.module_utils.timestamps import now_timestamp
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import INSTALL, MEMBER_STATES

# One assignment of the live table, by its whole key: token_id, adam_id, pricing_param, target_kind, target_id.
_ASSIGNMENT_IS = "token_id = ? AND adam_id = ? AND pricing_param = ? AND target_kind = ? AND target_id = ?"

# The install deployment that gave each license (the first by name when two target it): licensed members of install
# deployments, keyed as the assignment they hold (as DEPLOYED_BY_APPLICATION counts them).
_GIVEN_BY = (
    "SELECT ap.token_id, ap.adam_id, ap.pricing_param, dm.license_type AS target_kind, "
    + MEMBER_TARGET
    + " AS target_id, MIN(d.name) AS deployment FROM deployments d "
    "JOIN deployment_members dm ON dm.deployment_id = d.id JOIN applications ap ON ap.id = d.application_id "
    "WHERE d.action = '%s' AND dm.state = '%s' "
    "GROUP BY ap.token_id, ap.adam_id, ap.pricing_param, dm.license_type, "
    % (INSTALL, MEMBER_STATES[1])
    + MEMBER_TARGET
)
_ASSET_PARTITION = "PARTITION BY s.token_id, s.adam_id, s.pricing_param"
# Every synced assignment with the deployment that gave it, ranked per asset (untracked first) and counted per asset.
_RANKED_HOLDERS = (
    "SELECT t.name AS token, s.adam_id, s.pricing_param, s.target_kind, s.target_id, g.deployment, "
    "ROW_NUMBER() OVER (" + _ASSET_PARTITION + " ORDER BY CASE WHEN g.deployment IS NULL THEN 0 ELSE 1 END, "
    "s.target_kind, s.target_id) AS position, COUNT(*) OVER (" + _ASSET_PARTITION + ") AS holders_total "
    "FROM assignments s JOIN tokens t ON t.id = s.token_id "
    "JOIN assets a ON a.token_id = s.token_id AND a.adam_id = s.adam_id AND a.pricing_param = s.pricing_param "
    "LEFT JOIN (" + _GIVEN_BY + ") g ON g.token_id = s.token_id AND g.adam_id = s.adam_id "
    "AND g.pricing_param = s.pricing_param AND g.target_kind = s.target_kind AND g.target_id = s.target_id"
)


def _assignment_row(adam_id, pricing_param, target_kind, target_id):
    return {"adam_id": adam_id, "pricing_param": pricing_param, "target_kind": target_kind, "target_id": target_id}


class AssignmentsRepo:
    """Mixin of ``Store``: the assignments of each token (needs ``self.db``)."""

    def begin_assignment_snapshot(self, token):
        """Start a full sync of ``token``'s assignments: ``add_rows()`` page by page, then ``finish()``.

        Call it under ``token_lock(token)``. Rows stream into a temporary table of this connection; ``finish()``
        replaces the live assignments in one transaction, so an interrupted snapshot changes nothing.
        """
        return AssignmentSnapshot(self.db, token)

    def apply_assignment_delta(self, token, rows, version_id=None, run_id=None):
        """Add the assignments of a ``sinceVersionId`` delta (never removes: Apple's deltas omit removals).

        Returns ``{"added": n}``; one transaction, audited, and ``version_id`` stored with it.
        """
        with self.db.transaction():
            snapshot = AssignmentSnapshot(self.db, token)
            snapshot.add_rows(rows)
            return snapshot.finish(version_id=version_id, run_id=run_id, remove_missing=False)

    def record_assignment(self, token, adam_id, pricing_param, target_kind, target_id, run_id=None):
        """Record an assignment this manager made; return True if it was new (audited as ours)."""
        row = _assignment_row(adam_id, pricing_param, target_kind, target_id)
        return self.record_assignments(token, [row], run_id=run_id) > 0

    def remove_assignment(self, token, adam_id, pricing_param, target_kind, target_id, run_id=None):
        """Forget an assignment this manager removed; return True if it existed (audited as ours)."""
        row = _assignment_row(adam_id, pricing_param, target_kind, target_id)
        return self.remove_assignments(token, [row], run_id=run_id) > 0

    def record_assignments(self, token, rows, run_id=None):
        """Record assignments this manager made (dicts as ``iter_assignments`` yields); return how many were new.

        One transaction, statements per batch (a deployment to 100,000 devices is not 100,000 round trips); each
        new assignment is audited as ours, one already stored is left alone.
        """
        keys = list(dict.fromkeys(checked_assignment_key(row) for row in rows))
        added = 0
        with self.db.transaction():
            found, now = token_id(self.db, token), now_timestamp()
            for batch in batches(keys):
                # audit first, while NOT EXISTS still tells the new assignments from the known ones
                self.db.executemany(
                    "INSERT INTO audit (token_id, recorded_at, run_id, origin, kind, adam_id, pricing_param, "
                    "target_kind, target_id) SELECT ?, ?, ?, 'local', 'assignment_added', ?, ?, ?, ? WHERE NOT EXISTS "
                    "(SELECT 1 FROM assignments WHERE %s)" % _ASSIGNMENT_IS,
                    [(found, now, run_id, *key, found, *key) for key in batch],
                )
                added += self.db.executemany(
                    "INSERT INTO assignments (token_id, adam_id, pricing_param, target_kind, target_id) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    [(found, *key) for key in batch],
                ).rowcount
        return added

    def remove_assignments(self, token, rows, run_id=None):
        """Forget assignments this manager removed (dicts as ``iter_assignments`` yields); return how many existed.

        One transaction, statements per batch; each removed assignment is audited as ours.
        """
        keys = list(dict.fromkeys(checked_assignment_key(row) for row in rows))
        removed = 0
        with self.db.transaction():
            found, now = token_id(self.db, token), now_timestamp()
            for batch in batches(keys):
                self.db.executemany(
                    "INSERT INTO audit (token_id, recorded_at, run_id, origin, kind, adam_id, pricing_param, "
                    "target_kind, target_id) SELECT token_id, ?, ?, 'local', 'assignment_removed', adam_id, "
                    "pricing_param, target_kind, target_id FROM assignments WHERE %s" % _ASSIGNMENT_IS,
                    [(now, run_id, found, *key) for key in batch],
                )
                removed += self.db.executemany(
                    "DELETE FROM assignments WHERE %s" % _ASSIGNMENT_IS, [(found, *key) for key in batch]
                ).rowcount
        return removed

    def iter_assignments(self, token, adam_id=None, pricing_param=None, target_kind=None, target_id=None):
        """Stream ``token``'s assignments (dicts: adam_id, pricing_param, target_kind, target_id), filtered."""
        where, params = self._assignment_filter(token, adam_id, pricing_param, target_kind, target_id)
        return self.db.stream(
            "SELECT adam_id, pricing_param, target_kind, target_id FROM assignments WHERE %s "
            "ORDER BY adam_id, pricing_param, target_kind, target_id" % where,
            params,
        )

    def count_assignments(self, token, adam_id=None, pricing_param=None, target_kind=None, target_id=None):
        """How many assignments of ``token`` match the filters."""
        where, params = self._assignment_filter(token, adam_id, pricing_param, target_kind, target_id)
        return self.db.scalar("SELECT COUNT(*) FROM assignments WHERE %s" % where, params)

    def assignment_counts(self, token):
        """``{(adam_id, pricing_param): number of assignments}`` of ``token`` (assets without any are absent)."""
        rows = self.db.fetch_all(
            "SELECT adam_id, pricing_param, COUNT(*) AS n FROM assignments WHERE token_id = ? "
            "GROUP BY adam_id, pricing_param",
            (token_id(self.db, token),),
        )
        return {(row["adam_id"], row["pricing_param"]): row["n"] for row in rows}

    def _assignment_filter(self, token, adam_id, pricing_param, target_kind, target_id):
        clauses, params = ["token_id = ?"], [token_id(self.db, token)]
        filters = zip(ASSIGNMENT_COLUMNS, (adam_id, pricing_param, target_kind, target_id), strict=True)
        for column, value in filters:
            if value is not None:
                clauses.append("%s = ?" % column)
                params.append(str(value))
        return " AND ".join(clauses), params

    def iter_license_holders(self, limit, tokens=None, adam_id=None, product_type=None):
        """Stream who holds each synced asset's licenses, at most ``limit`` per asset, in one query for all assets.

        Each row: ``token``, ``adam_id``, ``pricing_param``, ``target_kind``, ``target_id``, ``deployment`` (the
        install deployment of this collection whose licensed member holds it, the first by name; None: untracked)
        and ``holders_total`` (the asset's holders before the cut). Untracked holders come first, then by kind and
        id. Filters as ``iter_licensed_assets``: ``tokens`` (names), exact ``adam_id`` and ``product_type``.
        """
        selection = asset_selection(tokens, adam_id=adam_id, product_type=product_type)
        if selection is None:
            return iter(())
        where, params = selection
        ranked = _RANKED_HOLDERS + where
        sql = (
            "SELECT token, adam_id, pricing_param, target_kind, target_id, deployment, holders_total FROM (%s) r "
            "WHERE position <= ? ORDER BY token, adam_id, pricing_param, position" % ranked
        )
        return self.db.stream(sql, [*params, int(limit)])
