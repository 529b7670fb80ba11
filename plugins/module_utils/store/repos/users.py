# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The users of the store: synced from Apple (snapshots, deltas) or registered by this manager."""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils.store.repos.audit import audit_row
from ansible_collections.mdm.vpp.plugins.module_utils.store.repos.tokens import token_id
from ansible_collections.mdm.vpp.plugins.module_utils.store.rows import (
    USER_FIELDS,
    check_fields,
    user_audit_key,
    user_state,
)
from ansible_collections.mdm.vpp.plugins.module_utils.store.snapshots.users import UserSnapshot
from ansible_collections.mdm.vpp.plugins.module_utils.timestamps import now_timestamp

USER_COLUMNS = "client_user_id, email, managed_apple_id, status, invite_code, id_hash, updated_at"


class UsersRepo:
    """Mixin of ``Store``: the users of each token (needs ``self.db``)."""

    def begin_user_snapshot(self, token):
        """Start a full sync of ``token``'s users (same protocol as ``begin_assignment_snapshot``).

        When Apple lists several records for one clientUserId (retired ones plus the active one), the active
        record is kept.
        """
        return UserSnapshot(self.db, token)

    def apply_user_delta(self, token, rows, version_id=None, run_id=None):
        """Apply the users of a ``sinceVersionId`` delta; returns ``{"added": n, "changed": n}`` (audited)."""
        with self.db.transaction():
            snapshot = UserSnapshot(self.db, token)
            snapshot.add_rows(rows)
            return snapshot.finish(version_id=version_id, run_id=run_id, remove_missing=False)

    def record_user(self, token, client_user_id, run_id=None, **fields):
        """Create or update a user this manager registered (``USER_FIELDS`` and ``managed_apple_id``); audited."""
        check_fields("user", fields, (*USER_FIELDS, "managed_apple_id"))
        with self.db.transaction():
            found = token_id(self.db, token)
            before = self.get_user(token, client_user_id)
            values = dict(fields, updated_at=now_timestamp())
            if before is None:
                self.db.insert("users", dict(values, token_id=found, client_user_id=client_user_id))
                kind, old, new = "user_added", None, user_state(fields)
            else:
                self.db.update("users", values, "token_id = ? AND client_user_id = ?", (found, client_user_id))
                kind, old, new = "user_changed", user_state(before), user_state(dict(before, **fields))
            if old != new:
                audit_row(self.db, found, kind, run_id, "local", user_audit_key(client_user_id), old, new)
        return self.get_user(token, client_user_id)

    def get_user(self, token, client_user_id):
        """One user of ``token`` or None."""
        return self.db.fetch_one(
            "SELECT %s FROM users WHERE token_id = ? AND client_user_id = ?" % USER_COLUMNS,
            (token_id(self.db, token), client_user_id),
        )

    def iter_users(self, token, status=None):
        """Stream ``token``'s users sorted by clientUserId, optionally only one status."""
        sql, params = self._user_filter("SELECT %s FROM users" % USER_COLUMNS, token, status)
        return self.db.stream(sql + " ORDER BY client_user_id", params)

    def count_users(self, token, status=None):
        """How many users ``token`` has (optionally with one status)."""
        return self.db.scalar(*self._user_filter("SELECT COUNT(*) FROM users", token, status))

    def _user_filter(self, select, token, status):
        sql, params = select + " WHERE token_id = ?", [token_id(self.db, token)]
        if status is not None:
            sql += " AND status = ?"
            params.append(status)
        return sql, params
