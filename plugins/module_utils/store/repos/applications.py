# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The applications of the store: named apps made from one asset of one token."""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils.errors import StoreError
from ansible_collections.mdm.vpp.plugins.module_utils.store.repos.tokens import token_id
from ansible_collections.mdm.vpp.plugins.module_utils.store.rows import APPLICATION_FIELDS, check_fields, encode
from ansible_collections.mdm.vpp.plugins.module_utils.timestamps import now_timestamp
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import DEFAULT_PRICING_PARAM, pricing_param_or_default

APPLICATION_SELECT = (
    "SELECT a.name, t.name AS token, a.adam_id, a.pricing_param, a.description, a.categories, a.created_at, "
    "a.updated_at FROM applications a JOIN tokens t ON t.id = a.token_id"
)


def application_id(db, name):
    """The row id of application ``name``; ``StoreError`` when it does not exist."""
    found = db.scalar("SELECT id FROM applications WHERE name = ?", (name,))
    if found is None:
        raise StoreError("application %r does not exist" % name, hint="create it first with mdm.vpp.vpp_app")
    return found


class ApplicationsRepo:
    """Mixin of ``Store``: the applications (needs ``self.db``)."""

    def get_application(self, name):
        """The application ``name`` or None."""
        return self.db.fetch_one(APPLICATION_SELECT + " WHERE a.name = ?", (name,))

    def find_application(self, token, adam_id, pricing_param=DEFAULT_PRICING_PARAM):
        """The application made from that asset of ``token``, or None."""
        return self.db.fetch_one(
            APPLICATION_SELECT + " WHERE t.name = ? AND a.adam_id = ? AND a.pricing_param = ?",
            (token, str(adam_id), pricing_param),
        )

    def list_applications(self, token=None):
        """Applications sorted by name (of one token when given)."""
        if token is None:
            return self.db.fetch_all(APPLICATION_SELECT + " ORDER BY a.name")
        return self.db.fetch_all(APPLICATION_SELECT + " WHERE t.name = ? ORDER BY a.name", (token,))

    def upsert_application(self, name, token=None, adam_id=None, pricing_param=DEFAULT_PRICING_PARAM, **fields):
        """Create application ``name`` (token and adam_id required) or update it; return it."""
        check_fields("application", fields, APPLICATION_FIELDS)
        values = {column: encode(column, value) for column, value in fields.items()}
        now = now_timestamp()
        with self.db.transaction():
            existing = self.db.scalar("SELECT id FROM applications WHERE name = ?", (name,))
            if token is not None:
                values.update(token_id=token_id(self.db, token))
            if adam_id is not None:
                values.update(adam_id=str(adam_id), pricing_param=pricing_param_or_default(pricing_param))
            if token is not None and adam_id is not None:
                self._refuse_second_application(name, token, adam_id, pricing_param)
            if existing is None:
                if token is None or adam_id is None:
                    raise StoreError("application %r does not exist: token and adam_id are needed to add it" % name)
                self.db.insert("applications", dict(values, name=name, created_at=now, updated_at=now))
            elif values:
                self.db.update("applications", dict(values, updated_at=now), "id = ?", (existing,))
        return self.get_application(name)

    def _refuse_second_application(self, name, token, adam_id, pricing_param):
        pricing_param = pricing_param_or_default(pricing_param)
        other = self.find_application(token, adam_id, pricing_param)
        if other is not None and other["name"] != name:
            raise StoreError(
                "asset %s (%s) of token %r already has the application %r"
                % (adam_id, pricing_param, token, other["name"]),
                hint="use that application, or delete it first",
            )

    def delete_application(self, name):
        """Delete application ``name`` and its deployments; return True if it existed."""
        with self.db.transaction():
            return self.db.execute("DELETE FROM applications WHERE name = ?", (name,)).rowcount > 0

    def rename_application(self, name, new_name):
        """Give application ``name`` the name ``new_name`` (its deployments follow it); return it renamed."""
        with self.db.transaction():
            found = application_id(self.db, name)
            holder = self.db.scalar("SELECT id FROM applications WHERE name = ?", (new_name,))
            if holder is not None and holder != found:
                raise StoreError(
                    "cannot rename application %r to %r: that name is taken by another application" % (name, new_name),
                    hint="choose another name",
                )
            self.db.update("applications", {"name": new_name, "updated_at": now_timestamp()}, "id = ?", (found,))
        return self.get_application(new_name)
