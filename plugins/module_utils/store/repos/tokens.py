# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tokens of the store: registering, reading (the secret only through ``get_token_secret()``), sync marks, and
Apple's notification settings (the shared secret only through ``get_notification_secret()``)."""

from __future__ import annotations

import json

from ansible_collections.mdm.vpp.plugins.module_utils.errors import StoreError
from ansible_collections.mdm.vpp.plugins.module_utils.store.rows import TOKEN_FIELDS, check_fields, encode
from ansible_collections.mdm.vpp.plugins.module_utils.timestamps import now_timestamp, to_timestamp

TOKEN_COLUMNS = (
    "name, fingerprint, description, categories, apple_id, token_type, org_name, location_name, uid, country, "
    "website_url, default_platform, expires_at, status, claimed, created_at, updated_at, last_sync_at, "
    "last_full_sync_at, assets_version, assignments_version, users_version"
)


# The deployments made from a token's applications, each with how many members it has and how many hold a license.
TOKEN_DEPLOYMENTS = (
    "SELECT d.name, a.name AS application, d.action, d.collection_name, d.collection_type, "
    "COUNT(dm.member_id) AS members, SUM(CASE WHEN dm.state = 'licensed' THEN 1 ELSE 0 END) AS licensed "
    "FROM deployments d JOIN applications a ON a.id = d.application_id "
    "LEFT JOIN deployment_members dm ON dm.deployment_id = d.id WHERE a.token_id = ? "
    "GROUP BY d.id, d.name, a.name, d.action, d.collection_name, d.collection_type ORDER BY d.name"
)


def token_id(db, name, required=True):
    """The row id of token ``name``; None, or ``StoreError`` when ``required``, if it is not registered."""
    found = db.scalar("SELECT id FROM tokens WHERE name = ?", (name,))
    if found is None and required:
        raise token_missing(name)
    return found


def token_missing(name):
    """The refusal of a token name that is not registered."""
    return StoreError("token %r is not registered in the store" % name, hint="register it first with mdm.vpp.vpp_token")


class TokensRepo:
    """Mixin of ``Store``: the tokens (needs ``self.db`` and ``self.cipher``)."""

    def get_token(self, name):
        """The token named ``name`` as a dictionary (without its secret), or None."""
        return self.db.fetch_one("SELECT %s FROM tokens WHERE name = ?" % TOKEN_COLUMNS, (name,))

    def get_token_secret(self, name):
        """The decrypted content token of ``name`` (to send to Apple; never put it in a result)."""
        ciphertext = self.db.scalar("SELECT secret FROM tokens WHERE name = ?", (name,))
        if ciphertext is None:
            raise token_missing(name)
        return self.cipher.decrypt(ciphertext, name)

    def get_notification_settings(self, name):
        """Token ``name``'s notification settings: ``{"url", "secret", "types"}`` (the secret decrypted, never to be
        put in a result; ``types`` a list, None when never set), all None when never set; None if not registered."""
        row = self.db.fetch_one(
            "SELECT notification_url, notification_secret, notification_types FROM tokens WHERE name = ?", (name,)
        )
        return None if row is None else self._notification_settings(name, row)

    def list_notification_settings(self):
        """``{name: {"url", "secret", "types"}}`` of every token that has notification settings (one query)."""
        rows = self.db.fetch_all(
            "SELECT name, notification_url, notification_secret, notification_types FROM tokens "
            "WHERE notification_url IS NOT NULL OR notification_types IS NOT NULL ORDER BY name"
        )
        return {row["name"]: self._notification_settings(row["name"], row) for row in rows}

    def _notification_settings(self, name, row):
        secret, types = row["notification_secret"], row["notification_types"]
        return {
            "url": row["notification_url"],
            "secret": None if secret is None else self.cipher.decrypt(secret, name),
            "types": None if types is None else json.loads(types),
        }

    def set_notification_settings(self, name, url, secret, types):
        """Store token ``name``'s notification settings (``secret`` encrypted; None clears a value)."""
        values = {
            "notification_url": url,
            "notification_secret": None if secret is None else self.cipher.encrypt(secret),
            "notification_types": None if types is None else json.dumps(list(types)),
            "updated_at": now_timestamp(),
        }
        with self.db.transaction():
            token_id(self.db, name)
            self.db.update("tokens", values, "name = ?", (name,))

    def get_notification_secret(self, name):
        """The decrypted shared secret Apple sends as Bearer in its notifications to token ``name``; None when the
        token is not registered or has none (never put it in a result)."""
        ciphertext = self.db.scalar("SELECT notification_secret FROM tokens WHERE name = ?", (name,))
        return None if ciphertext is None else self.cipher.decrypt(ciphertext, name)

    def notification_tokens(self, uid):
        """``[(name, secret)]``, sorted by name, of the tokens of Apple location ``uid`` that have a notification
        secret (decrypted: a receiver compares Apple's Bearer with each; never put one in a result)."""
        rows = self.db.fetch_all(
            "SELECT name, notification_secret FROM tokens WHERE uid = ? AND notification_secret IS NOT NULL "
            "ORDER BY name",
            (uid,),
        )
        return [(row["name"], self.cipher.decrypt(row["notification_secret"], row["name"])) for row in rows]

    def list_tokens(self, names=None):
        """Tokens sorted by name; only those in ``names`` when given (unknown names are simply absent)."""
        if names is None:
            return self.db.fetch_all("SELECT %s FROM tokens ORDER BY name" % TOKEN_COLUMNS)
        names = list(names)
        if not names:
            return []
        sql = "SELECT %s FROM tokens WHERE name IN (%s) ORDER BY name" % (TOKEN_COLUMNS, ", ".join("?" * len(names)))
        return self.db.fetch_all(sql, names)

    def count_tokens(self):
        """How many tokens are registered (Apple allows at most 3000 per manager)."""
        return self.db.scalar("SELECT COUNT(*) FROM tokens")

    def find_token_by_uid(self, uid):
        """Every token registered for Apple location ``uid`` (a location can be uploaded under several names)."""
        return self.db.fetch_all("SELECT %s FROM tokens WHERE uid = ? ORDER BY name" % TOKEN_COLUMNS, (uid,))

    def upsert_token(self, name, content_token=None, **fields):
        """Create token ``name`` or update the fields given; return the stored token.

        ``content_token`` (a ``stoken.ContentToken``) is required to create and sets the secret (encrypted), its
        fingerprint, org name and expiry. ``fields``: any of ``TOKEN_FIELDS``.
        """
        check_fields("token", fields, TOKEN_FIELDS)
        values = {column: encode(column, value) for column, value in fields.items()}
        if content_token is not None:
            values.update(
                secret=self.cipher.encrypt(content_token.secret),
                fingerprint=content_token.fingerprint,
                org_name=content_token.org_name,
                expires_at=to_timestamp(content_token.expires_at),
            )
        now = now_timestamp()
        with self.db.transaction():
            if token_id(self.db, name, required=False) is None:
                if content_token is None:
                    raise StoreError("token %r is not registered yet: its content token is needed to add it" % name)
                values.update(name=name, created_at=now, updated_at=now)
                self.db.insert("tokens", values)
            elif values:
                values["updated_at"] = now
                self.db.update("tokens", values, "name = ?", (name,))
        return self.get_token(name)

    def delete_token(self, name):
        """Delete token ``name`` and everything synced or deployed through it; return True if it existed."""
        with self.db.transaction():
            found = token_id(self.db, name, required=False)
            if found is None:
                return False
            self.db.execute("DELETE FROM tokens WHERE id = ?", (found,))
            return True

    def mark_synced(self, name, full=False, at=None, assets_version=None, assignments_version=None, users_version=None):
        """Record a finished sync of ``name`` (and a full one when ``full``) plus the dataset versions given."""
        at = to_timestamp(at) or now_timestamp()
        values = {"last_sync_at": at}
        if full:
            values["last_full_sync_at"] = at
        versions = {
            "assets_version": assets_version,
            "assignments_version": assignments_version,
            "users_version": users_version,
        }
        values.update({column: value for column, value in versions.items() if value is not None})
        with self.db.transaction():
            token_id(self.db, name)
            self.db.update("tokens", values, "name = ?", (name,))
        return self.get_token(name)

    def token_dependents(self, name):
        """What deleting token ``name`` would take with it: ``{"applications", "deployments", "assets"}``.

        ``applications``: names, sorted; ``deployments``: one dict per deployment of those applications (``name``,
        ``application``, ``action``, ``collection_name``, ``collection_type``, ``members``, ``licensed``), sorted
        by name; ``assets``: how many synced apps and books. None when the token is not registered.
        """
        found = token_id(self.db, name, required=False)
        if found is None:
            return None
        applications = self.db.fetch_all("SELECT name FROM applications WHERE token_id = ? ORDER BY name", (found,))
        deployments = self.db.fetch_all(TOKEN_DEPLOYMENTS, (found,))
        for deployment in deployments:
            deployment["members"], deployment["licensed"] = int(deployment["members"]), int(deployment["licensed"] or 0)
        return {
            "applications": [row["name"] for row in applications],
            "deployments": deployments,
            "assets": self.db.scalar("SELECT COUNT(*) FROM assets WHERE token_id = ?", (found,)),
        }
