# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The catalogue metadata of the store: name, bundle id, version, icon and platforms of each adamId."""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils.store.rows import METADATA_FIELDS, batches, check_fields, encode
from ansible_collections.mdm.vpp.plugins.module_utils.timestamps import now_timestamp


def _metadata_values(row):
    """The stored values of a metadata row, adamId first (platforms default to none)."""
    values = [encode(name, row.get(name, [] if name == "platforms" else None)) for name in METADATA_FIELDS]
    return [str(row["adam_id"]), *values]


class MetadataRepo:
    """Mixin of ``Store``: catalogue metadata, shared by every token (needs ``self.db``)."""

    def get_metadata(self, adam_id):
        """Catalogue metadata of ``adam_id`` (name, bundle_id, version, icon_url, platforms, kind) or None."""
        return self.db.fetch_one(
            "SELECT adam_id, %s, updated_at FROM metadata WHERE adam_id = ?" % ", ".join(METADATA_FIELDS),
            (str(adam_id),),
        )

    def put_metadata(self, rows):
        """Insert or replace metadata rows (each with ``adam_id`` and any of ``METADATA_FIELDS``)."""
        now = now_timestamp()
        columns = ["adam_id", *METADATA_FIELDS, "updated_at"]
        updates = ", ".join("%s = excluded.%s" % (name, name) for name in columns[1:])
        with self.db.transaction():
            for batch in batches(rows):
                for row in batch:
                    check_fields("metadata", set(row) - {"adam_id"}, METADATA_FIELDS)
                self.db.executemany(
                    "INSERT INTO metadata (%s) VALUES (%s) ON CONFLICT (adam_id) DO UPDATE SET %s"
                    % (", ".join(columns), ", ".join("?" * len(columns)), updates),
                    [_metadata_values(row) + [now] for row in batch],
                )

    def adam_ids_missing_metadata(self, token=None):
        """adamIds of synced assets (of ``token``, or of every token) that have no metadata yet."""
        sql = (
            "SELECT DISTINCT a.adam_id FROM assets a JOIN tokens t ON t.id = a.token_id "
            "WHERE NOT EXISTS (SELECT 1 FROM metadata m WHERE m.adam_id = a.adam_id)"
        )
        params = []
        if token is not None:
            sql += " AND t.name = ?"
            params.append(token)
        return [row["adam_id"] for row in self.db.fetch_all(sql + " ORDER BY a.adam_id", params)]
