# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deployments of the store and their members (license and install states), and the licenses they hold."""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils.errors import StoreError
from ansible_collections.mdm.vpp.plugins.module_utils.store.repos.applications import application_id
from ansible_collections.mdm.vpp.plugins.module_utils.store.rows import (
    DEPLOYMENT_FIELDS,
    MEMBER_FIELDS,
    batches,
    check_choice,
    check_fields,
    encode,
)
from ansible_collections.mdm.vpp.plugins.module_utils.timestamps import now_timestamp
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import (
    ACTIONS,
    DEFAULT_PRICING_PARAM,
    INSTALL,
    INSTALL_STATES,
    MEMBER_STATES,
    TARGET_KINDS,
    USER,
)

# The license a member holds or is given: its serial (device license), its device's user (user license for a
# device collection) or the member itself (user collection).
MEMBER_TARGET = (
    "CASE WHEN dm.license_type = '%s' AND dm.device_user IS NOT NULL THEN dm.device_user ELSE dm.member_id END" % USER
)

# A deployment member's row joined to its license in the synced assignments: rows of members whose license no
# longer stands (taken back, revoked at Apple) drop out.
STANDING_LICENSE = (
    "JOIN applications ap ON ap.id = d.application_id "
    "JOIN assignments s ON s.token_id = ap.token_id AND s.adam_id = ap.adam_id "
    "AND s.pricing_param = ap.pricing_param AND s.target_kind = dm.license_type "
    "AND s.target_id = " + MEMBER_TARGET + " "
)

# Licenses our install deployments hold, per application: licensed members whose license still stands in the
# synced assignments (one reclaimed by an uninstall deployment or revoked at Apple no longer counts), each
# license once even when two deployments target it.
DEPLOYED_BY_APPLICATION = (
    "SELECT d.application_id, COUNT(DISTINCT s.target_kind || ':' || s.target_id) AS deployed "
    "FROM deployments d JOIN deployment_members dm ON dm.deployment_id = d.id "
    + STANDING_LICENSE
    + "WHERE d.action = '"
    + INSTALL
    + "' AND dm.state = 'licensed' GROUP BY d.application_id"
)

# Members our install deployments installed, per application: licensed members whose device confirmed the app and
# whose license still stands, as DEPLOYED_BY_APPLICATION counts them (an uninstall deployment that removed the app
# and took the license back leaves the install deployment's row "installed": it no longer counts).
INSTALLED_BY_APPLICATION = (
    "SELECT d.application_id, COUNT(DISTINCT dm.member_id) AS installed "
    "FROM deployments d JOIN deployment_members dm ON dm.deployment_id = d.id "
    + STANDING_LICENSE
    + "WHERE d.action = '"
    + INSTALL
    + "' AND dm.state = 'licensed' AND dm.install_state = 'installed' "
    "GROUP BY d.application_id"
)

MEMBER_ROWS = (
    "SELECT member_id, device_user, license_type, state, error_number, error_message, event_id, enrollment_id, "
    "install_state, command_uuid, install_error, created_at, updated_at FROM deployment_members "
    "WHERE deployment_id = ?"
)
DEPLOYMENT_SELECT = (
    "SELECT d.name, a.name AS application, t.name AS token, a.adam_id, a.pricing_param, d.collection_name, "
    "d.collection_type, d.action, d.purpose, d.license_type, d.options, d.created_at, d.updated_at "
    "FROM deployments d JOIN applications a ON a.id = d.application_id JOIN tokens t ON t.id = a.token_id"
)


def deployment_id(db, name):
    """The row id of deployment ``name``; ``StoreError`` when it does not exist."""
    found = db.scalar("SELECT id FROM deployments WHERE name = ?", (name,))
    if found is None:
        raise StoreError("deployment %r does not exist" % name)
    return found


def _group_by_fields(rows):
    """Group rows by the set of fields they carry (so an upsert only overwrites what a row says)."""
    groups = {}
    for row in rows:
        fields = tuple(sorted(set(row) - {"member_id"}))
        groups.setdefault(fields, []).append(row)
    return groups.items()


class DeploymentsRepo:
    """Mixin of ``Store``: deployments and their members (needs ``self.db``)."""

    def get_deployment(self, name):
        """The deployment ``name`` (with its application, token and asset) or None."""
        return self.db.fetch_one(DEPLOYMENT_SELECT + " WHERE d.name = ?", (name,))

    def list_deployments(self, application=None):
        """Deployments sorted by name (of one application when given)."""
        if application is None:
            return self.db.fetch_all(DEPLOYMENT_SELECT + " ORDER BY d.name")
        return self.db.fetch_all(DEPLOYMENT_SELECT + " WHERE a.name = ? ORDER BY d.name", (application,))

    def upsert_deployment(self, name, application=None, **fields):
        """Create deployment ``name`` (application, collection_name, collection_type, action, purpose required)
        or update the fields given; return it. Fields: ``DEPLOYMENT_FIELDS``."""
        check_fields("deployment", fields, DEPLOYMENT_FIELDS)
        if "action" in fields:
            check_choice("action", fields["action"], ACTIONS)
        for label in ("collection_type", "license_type"):
            if fields.get(label) is not None:
                check_choice(label, fields[label], TARGET_KINDS)
        values = {column: encode(column, value) for column, value in fields.items()}
        now = now_timestamp()
        with self.db.transaction():
            existing = self.db.scalar("SELECT id FROM deployments WHERE name = ?", (name,))
            if application is not None:
                values["application_id"] = application_id(self.db, application)
            if existing is None:
                required = ("application_id", "collection_name", "collection_type", "action", "purpose")
                missing = [column for column in required if values.get(column) is None]
                if missing:
                    raise StoreError("deployment %r needs %s to be created" % (name, ", ".join(missing)))
                self.db.insert("deployments", dict(values, name=name, created_at=now, updated_at=now))
            elif values:
                self.db.update("deployments", dict(values, updated_at=now), "id = ?", (existing,))
        return self.get_deployment(name)

    def delete_deployment(self, name):
        """Delete deployment ``name`` and its members (its events stay, unlinked); True if it existed."""
        with self.db.transaction():
            return self.db.execute("DELETE FROM deployments WHERE name = ?", (name,)).rowcount > 0

    def upsert_members(self, deployment, rows):
        """Insert or update members of ``deployment`` in one transaction; return how many rows were written.

        Each row has ``member_id`` and any of ``MEMBER_FIELDS``; fields a row leaves out keep their stored value.
        """
        now = now_timestamp()
        written = 0
        with self.db.transaction():
            found = deployment_id(self.db, deployment)
            for batch in batches(rows):
                for fields, group in _group_by_fields(batch):
                    written += self._upsert_member_group(found, fields, group, now)
        return written

    def _upsert_member_group(self, deployment_row_id, fields, rows, now):
        check_fields("member", fields, MEMBER_FIELDS)
        if "state" in fields:
            for row in rows:
                check_choice("member state", row["state"], MEMBER_STATES)
        if "install_state" in fields:
            for row in rows:
                if row["install_state"] is not None:
                    check_choice("install state", row["install_state"], INSTALL_STATES)
        columns = ["deployment_id", "member_id", *fields, "created_at", "updated_at"]
        updates = ", ".join("%s = excluded.%s" % (name, name) for name in (*fields, "updated_at"))
        self.db.executemany(
            "INSERT INTO deployment_members (%s) VALUES (%s) ON CONFLICT (deployment_id, member_id) DO UPDATE SET %s"
            % (", ".join(columns), ", ".join("?" * len(columns)), updates),
            [[deployment_row_id, str(row["member_id"])] + [row[name] for name in fields] + [now, now] for row in rows],
        )
        return len(rows)

    def settle_members(self, deployment, event_id, rows):
        """The outcome of event ``event_id`` for its members still pending on it, in bulk: each row has
        ``member_id``, ``state``, ``error_number`` and ``error_message``; rows of other members are ignored.
        Returns how many members changed (an update by primary key: nothing is read back)."""
        for row in rows:
            check_choice("member state", row["state"], MEMBER_STATES)
        return self._update_members(
            deployment,
            "state = ?, error_number = ?, error_message = ?, updated_at = ? WHERE deployment_id = ? "
            "AND member_id = ? AND event_id = ? AND state = 'pending'",
            rows,
            lambda row, found, now: (
                (row["state"], row["error_number"], row["error_message"], now, found)
                + (str(row["member_id"]), event_id)
            ),
        )

    def mark_pending(self, deployment, event_id, member_ids):
        """Members now waiting on event ``event_id`` (Apple accepted their batch): pending, their error cleared, by
        primary key (the rows exist: a run writes its members before any call). Returns how many changed."""
        return self._update_members(
            deployment,
            "state = 'pending', event_id = ?, error_number = NULL, error_message = NULL, updated_at = ? "
            "WHERE deployment_id = ? AND member_id = ?",
            member_ids,
            lambda member_id, found, now: (event_id, now, found, str(member_id)),
        )

    def _update_members(self, deployment, assignments, items, params):
        """``UPDATE deployment_members SET <assignments>`` once per item (``params(item, deployment row id, now)``),
        in statements of ``BATCH_SIZE`` rows, in one transaction; returns how many rows changed."""
        if not items:
            return 0
        found, now = deployment_id(self.db, deployment), now_timestamp()
        changed = 0
        with self.db.transaction():
            for batch in batches(items):
                changed += self.db.executemany(
                    "UPDATE deployment_members SET " + assignments, [params(item, found, now) for item in batch]
                ).rowcount
        return changed

    def members_pending_on(self, deployment, event_id):
        """Members of ``deployment`` still pending on event ``event_id`` (``member_id``, ``device_user``,
        ``license_type``): those whose license goes to their device's user are found through it."""
        return self.db.fetch_all(
            "SELECT member_id, device_user, license_type FROM deployment_members "
            "WHERE deployment_id = ? AND event_id = ? AND state = 'pending' ORDER BY member_id",
            (deployment_id(self.db, deployment), event_id),
        )

    def iter_member_targets(self, deployment):
        """``member_id``, ``device_user`` and ``license_type`` of every member of ``deployment``, streamed."""
        return self.db.stream(
            "SELECT member_id, device_user, license_type FROM deployment_members WHERE deployment_id = ? "
            "ORDER BY member_id",
            (deployment_id(self.db, deployment),),
        )

    def list_members(self, deployment, state=None, limit=None, offset=0):
        """Members of ``deployment`` sorted by member id, optionally in one state, optionally a page: ``limit`` of
        them after the first ``offset``."""
        sql = MEMBER_ROWS
        params = [deployment_id(self.db, deployment)]
        if state is not None:
            sql += " AND state = ?"
            params.append(state)
        sql += " ORDER BY member_id"
        if limit is not None:
            sql += " LIMIT %d OFFSET %d" % (int(limit), int(offset))
        return self.db.fetch_all(sql, params)

    def iter_members(self, deployment):
        """Every member row of ``deployment`` (the columns of ``list_members``), streamed in the store's order."""
        return self.db.stream(MEMBER_ROWS, (deployment_id(self.db, deployment),))

    def count_members(self, deployment):
        """``{state: count}`` for every member state of ``deployment`` (zeros included)."""
        counts = dict.fromkeys(MEMBER_STATES, 0)
        rows = self.db.fetch_all(
            "SELECT state, COUNT(*) AS n FROM deployment_members WHERE deployment_id = ? GROUP BY state",
            (deployment_id(self.db, deployment),),
        )
        counts.update({row["state"]: row["n"] for row in rows})
        return counts

    def delete_members(self, deployment, member_ids):
        """Remove members from ``deployment`` (they left the collection); return how many were removed."""
        found = deployment_id(self.db, deployment)
        removed = 0
        with self.db.transaction():
            for batch in batches(member_ids):
                removed += self.db.executemany(
                    "DELETE FROM deployment_members WHERE deployment_id = ? AND member_id = ?",
                    [(found, str(member_id)) for member_id in batch],
                ).rowcount
        return removed

    def targets_of_other_installs(self, deployment, application):
        """``{(license kind, target id)}`` that install deployments of ``application`` other than ``deployment``
        have licensed or are licensing: licenses a reclaim by ``deployment`` must leave alone."""
        rows = self.db.fetch_all(
            "SELECT DISTINCT dm.license_type AS kind, " + MEMBER_TARGET + " AS target_id FROM deployments d "
            "JOIN applications ap ON ap.id = d.application_id "
            "JOIN deployment_members dm ON dm.deployment_id = d.id "
            "WHERE ap.name = ? AND d.name <> ? AND d.action = ? AND dm.state IN ('licensed', 'pending') "
            "AND dm.license_type IS NOT NULL",
            (application, deployment, INSTALL),
        )
        return {(row["kind"], row["target_id"]) for row in rows}

    def deployed_count(self, token, adam_id, pricing_param=DEFAULT_PRICING_PARAM):
        """How many licenses of that asset this manager's install deployments hold (see DEPLOYED_BY_APPLICATION)."""
        deployed = self.db.scalar(
            "SELECT dc.deployed FROM applications ap JOIN tokens t ON t.id = ap.token_id "
            "JOIN (" + DEPLOYED_BY_APPLICATION + ") dc ON dc.application_id = ap.id "
            "WHERE t.name = ? AND ap.adam_id = ? AND ap.pricing_param = ?",
            (token, str(adam_id), pricing_param),
        )
        return deployed or 0
