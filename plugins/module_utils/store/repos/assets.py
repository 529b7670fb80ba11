# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The synced assets of the store (license counts per token), their diff, and the licensed-asset listing."""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils.store.repos.audit import audit_rows
from ansible_collections.mdm.vpp.plugins.module_utils.store.repos.deployments import (
    DEPLOYED_BY_APPLICATION,
    INSTALLED_BY_APPLICATION,
)
from ansible_collections.mdm.vpp.plugins.module_utils.store.repos.tokens import token_id
from ansible_collections.mdm.vpp.plugins.module_utils.store.rows import (
    ASSET_FIELDS,
    COUNT_FIELDS,
    asset_selection,
    check_fields,
    encode,
)
from ansible_collections.mdm.vpp.plugins.module_utils.timestamps import now_timestamp
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import DEFAULT_PRICING_PARAM, asset_key

ASSET_DEFAULTS = {
    "platforms": [],
    "device_assignable": False,
    "revocable": False,
    "unlimited": False,
    "total_count": 0,
    "assigned_count": 0,
    "available_count": 0,
    "retired_count": 0,
}
ASSET_COLUMNS = "adam_id, pricing_param, " + ", ".join(ASSET_FIELDS) + ", updated_at"

# Each asset with its token, catalogue metadata, application (if any) and the licenses our install
# deployments hold; the deployed counts are grouped once for every application, not queried per asset.
LICENSED_ASSET_SELECT = (
    "SELECT t.name AS token, t.token_type, a.adam_id, a.pricing_param, a.product_type, a.total_count, "
    "a.assigned_count, a.available_count, a.retired_count, a.device_assignable, a.revocable, a.platforms, "
    "a.unlimited, a.updated_at, m.name, m.bundle_id, m.version, m.icon_url, ap.name AS application, "
    "COALESCE(dc.deployed, 0) AS deployed, COALESCE(ic.installed, 0) AS installed "
    "FROM assets a JOIN tokens t ON t.id = a.token_id "
    "LEFT JOIN metadata m ON m.adam_id = a.adam_id "
    "LEFT JOIN applications ap ON ap.token_id = a.token_id AND ap.adam_id = a.adam_id "
    "AND ap.pricing_param = a.pricing_param "
    "LEFT JOIN (" + DEPLOYED_BY_APPLICATION + ") dc ON dc.application_id = ap.id "
    "LEFT JOIN (" + INSTALLED_BY_APPLICATION + ") ic ON ic.application_id = ap.id"
)


def asset_diff(before_rows, after_rows):
    """Pure diff of two asset lists keyed by (adam_id, pricing_param): added, changed (with count deltas), removed."""
    before = {(row["adam_id"], row["pricing_param"]): row for row in before_rows}
    after = {(row["adam_id"], row["pricing_param"]): row for row in after_rows}
    diff = {"added": [], "changed": [], "removed": []}
    for key in sorted(after.keys() - before.keys()):
        diff["added"].append(after[key])
    for key in sorted(before.keys() - after.keys()):
        diff["removed"].append(before[key])
    for key in sorted(before.keys() & after.keys()):
        old, new = before[key], after[key]
        if any(old.get(name) != new.get(name) for name in ASSET_FIELDS):
            delta = {name: (new.get(name) or 0) - (old.get(name) or 0) for name in COUNT_FIELDS}
            diff["changed"].append(
                {"adam_id": key[0], "pricing_param": key[1], "before": old, "after": new, "delta": delta}
            )
    return diff


def normalize_asset_row(row):
    """An asset row as the store keeps it: the adamId as text, Apple's default pricing, defaults for the rest."""
    adam_id, pricing_param = asset_key(row["adam_id"], row.get("pricing_param"))
    values = {"adam_id": adam_id, "pricing_param": pricing_param}
    check_fields("asset", set(row) - {"adam_id", "pricing_param"}, ASSET_FIELDS)
    for name in ASSET_FIELDS:
        value = row.get(name)
        values[name] = ASSET_DEFAULTS.get(name) if value is None else value
    return values


def _counts(row):
    return {name: row.get(name) for name in COUNT_FIELDS} if row else None


def _audit_key(row):
    """The audit key of an asset row: (adam_id, pricing_param) and no target."""
    return row["adam_id"], row["pricing_param"], None, None


class AssetsRepo:
    """Mixin of ``Store``: the synced assets of each token (needs ``self.db``)."""

    def list_assets(self, token, adam_id=None):
        """Assets of ``token`` (optionally one adamId) sorted by adamId, pricingParam."""
        sql = "SELECT %s FROM assets WHERE token_id = ?" % ASSET_COLUMNS
        params = [token_id(self.db, token)]
        if adam_id is not None:
            sql += " AND adam_id = ?"
            params.append(str(adam_id))
        return self.db.fetch_all(sql + " ORDER BY adam_id, pricing_param", params)

    def get_asset(self, token, adam_id, pricing_param=DEFAULT_PRICING_PARAM):
        """One asset of ``token`` or None."""
        return self.db.fetch_one(
            "SELECT %s FROM assets WHERE token_id = ? AND adam_id = ? AND pricing_param = ?" % ASSET_COLUMNS,
            (token_id(self.db, token), str(adam_id), pricing_param),
        )

    def replace_assets(self, token, rows, run_id=None):
        """Make ``rows`` the complete asset list of ``token``; return ``asset_diff()`` of before and after.

        Each row has ``adam_id``, ``pricing_param`` and any of ``ASSET_FIELDS``. Count changes are audited.
        """
        new_rows = [normalize_asset_row(row) for row in rows]
        now = now_timestamp()
        with self.db.transaction():
            found = token_id(self.db, token)
            diff = asset_diff(self.list_assets(token), new_rows)
            self.db.execute("DELETE FROM assets WHERE token_id = ?", (found,))
            columns = ["token_id", "adam_id", "pricing_param", *ASSET_FIELDS, "updated_at"]
            self.db.executemany(
                "INSERT INTO assets (%s) VALUES (%s)" % (", ".join(columns), ", ".join("?" * len(columns))),
                (
                    [found, row["adam_id"], row["pricing_param"]]
                    + [encode(name, row[name]) for name in ASSET_FIELDS]
                    + [now]
                    for row in new_rows
                ),
            )
            self._audit_asset_counts(found, diff, run_id, now)
        return diff

    def _audit_asset_counts(self, token_row_id, diff, run_id, now):
        entries = [(row, None, row) for row in diff["added"]]
        entries += [(row, row, None) for row in diff["removed"]]
        entries += [
            (change, change["before"], change["after"])
            for change in diff["changed"]
            if _counts(change["before"]) != _counts(change["after"])
        ]
        audit_rows(
            self.db,
            [
                (token_row_id, now, run_id, "apple", "asset_count_changed", _audit_key(row), _counts(old), _counts(new))
                for row, old, new in entries
            ],
        )

    def move_asset_counts(self, token, adam_id, pricing_param, assigned, run_id=None):
        """Move the stored counts of an asset by ``assigned`` licenses this manager gave (> 0) or took back (< 0).

        ``assigned_count`` grows and ``available_count`` shrinks by as much (neither below 0; an unlimited app's
        available count stays), so the counts follow a deployment without a sync; the next sync reads Apple's
        counts and replaces them. Call it in the transaction that records the assignments. Audited as ours;
        returns the counts after, or None when the asset is not synced (nothing to move).
        """
        if not assigned:
            return None
        with self.db.transaction():
            before = self.get_asset(token, adam_id, pricing_param)
            if before is None:
                return None
            after = dict(before, assigned_count=max(before["assigned_count"] + assigned, 0))
            if not before["unlimited"]:
                after["available_count"] = max(before["available_count"] - assigned, 0)
            found, now = token_id(self.db, token), now_timestamp()
            self.db.execute(
                "UPDATE assets SET assigned_count = ?, available_count = ? "
                "WHERE token_id = ? AND adam_id = ? AND pricing_param = ?",
                (after["assigned_count"], after["available_count"], found, str(adam_id), pricing_param),
            )
            entry = (found, now, run_id, "local", "asset_count_changed", _audit_key(before), _counts(before))
            audit_rows(self.db, [(*entry, _counts(after))])
        return _counts(after)

    def iter_licensed_assets(self, tokens=None, adam_id=None, pricing_param=None, product_type=None):
        """Stream every synced asset with what the app reports need, in one query (no query per asset).

        Each row: the asset (``adam_id``, ``pricing_param``, ``ASSET_FIELDS``, ``updated_at``), its ``token`` and
        ``token_type``, the catalogue's ``name``, ``bundle_id``, ``version``, ``icon_url`` (None when unknown),
        ``application`` (the name of the application made from it, or None) and ``deployed`` (licenses held by
        members in state licensed of install deployments, as ``deployed_count()``). Filters: ``tokens`` (names;
        unknown ones match nothing), exact ``adam_id``, ``pricing_param`` and ``product_type``. Sorted by token,
        then app name (case-insensitive; adamId when unknown), adamId, pricingParam.
        """
        selection = asset_selection(tokens, adam_id=adam_id, pricing_param=pricing_param, product_type=product_type)
        if selection is None:
            return iter(())
        where, params = selection
        order = " ORDER BY t.name, LOWER(COALESCE(m.name, a.adam_id)), a.adam_id, a.pricing_param"
        return self.db.stream(LICENSED_ASSET_SELECT + where + order, params)
