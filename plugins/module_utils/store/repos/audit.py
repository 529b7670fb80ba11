# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit log of the store: every change of synced or deployed data, from Apple (``apple``) or ours (``local``)."""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils.store.repos.tokens import token_id
from ansible_collections.mdm.vpp.plugins.module_utils.store.rows import check_choice, encode
from ansible_collections.mdm.vpp.plugins.module_utils.timestamps import now_timestamp, to_timestamp

AUDIT_KINDS = (
    "assignment_added",
    "assignment_removed",
    "user_added",
    "user_changed",
    "user_removed",
    "asset_count_changed",
)
AUDIT_INSERT = (
    "INSERT INTO audit (token_id, recorded_at, run_id, origin, kind, adam_id, pricing_param, target_kind, "
    "target_id, before, after) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
AUDIT_SELECT = (
    "SELECT t.name AS token, au.recorded_at, au.run_id, au.origin, au.kind, au.adam_id, au.pricing_param, "
    "au.target_kind, au.target_id, au.before, au.after FROM audit au JOIN tokens t ON t.id = au.token_id"
)


def audit_rows(db, entries):
    """Append audit entries, each ``(token_id, recorded_at, run_id, origin, kind, key, before, after)`` where
    ``key`` is (adam_id, pricing_param, target_kind, target_id)."""
    db.executemany(
        AUDIT_INSERT,
        [
            (token_row_id, recorded_at, run_id, origin, kind, *key, encode("before", before), encode("after", after))
            for token_row_id, recorded_at, run_id, origin, kind, key, before, after in entries
        ],
    )


def audit_row(db, token_row_id, kind, run_id, origin, key, before=None, after=None):
    """Append one audit entry recorded now; ``key`` is (adam_id, pricing_param, target_kind, target_id)."""
    audit_rows(db, [(token_row_id, now_timestamp(), run_id, origin, kind, key, before, after)])


class AuditRepo:
    """Mixin of ``Store``: the audit log (needs ``self.db``)."""

    def audit(
        self,
        token,
        kind,
        adam_id=None,
        pricing_param=None,
        target_kind=None,
        target_id=None,
        before=None,
        after=None,
        run_id=None,
        origin="local",
    ):
        """Append one audit entry for ``token`` (``kind`` one of ``AUDIT_KINDS``)."""
        check_choice("audit kind", kind, AUDIT_KINDS)
        key = (adam_id, pricing_param, target_kind, target_id)
        with self.db.transaction():
            audit_row(self.db, token_id(self.db, token), kind, run_id, origin, key, before, after)

    def iter_audit(self, token=None, kind=None, run_id=None, since=None, limit=None):
        """Stream audit entries oldest first, filtered by token, kind, run id and time (``since`` inclusive)."""
        where, params = _audit_filter(
            tokens=None if token is None else [token],
            kinds=None if kind is None else [kind],
            run_id=run_id,
            since=since,
        )
        sql = AUDIT_SELECT + where + " ORDER BY au.id"
        if limit is not None:
            sql += " LIMIT %d" % int(limit)
        return self.db.stream(sql, params)

    def list_audit(self, limit, tokens=None, kinds=None, adam_id=None, target_id=None, run_id=None, since=None):
        """The ``limit`` newest audit entries (newest first) and whether older ones match too: ``(rows, more)``.

        Each row as ``iter_audit`` yields it plus ``app``, the catalogue's name of its adamId (None when unknown).
        Filters: ``tokens`` and ``kinds`` (lists), exact ``adam_id``, ``target_id`` (serial or clientUserId) and
        ``run_id``, ``since`` inclusive. One query, whatever the size of the log.
        """
        where, params = _audit_filter(tokens, kinds, adam_id, target_id, run_id, since)
        sql = (
            AUDIT_SELECT.replace(" FROM audit au", ", m.name AS app FROM audit au")
            + " LEFT JOIN metadata m ON m.adam_id = au.adam_id"
            + where
            + " ORDER BY au.recorded_at DESC, au.id DESC LIMIT %d" % (int(limit) + 1)
        )
        rows = self.db.fetch_all(sql, params)
        return rows[:limit], len(rows) > limit


def _audit_filter(tokens=None, kinds=None, adam_id=None, target_id=None, run_id=None, since=None):
    """The WHERE clause (with its leading space, or empty) and parameters of the audit filters."""
    clauses, params = [], []
    for column, values in (("t.name", tokens), ("au.kind", kinds)):
        if values is not None:
            values = list(values)
            clauses.append("%s IN (%s)" % (column, ", ".join("?" * len(values))) if values else "1 = 0")
            params.extend(values)
    for column, value in (("au.adam_id", adam_id), ("au.target_id", target_id), ("au.run_id", run_id)):
        if value is not None:
            clauses.append("%s = ?" % column)
            params.append(str(value))
    if since is not None:
        clauses.append("au.recorded_at >= ?")
        params.append(to_timestamp(since))
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params
