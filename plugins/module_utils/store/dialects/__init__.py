# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The store's database dialects (``base.Dialect`` is their contract) and the choice of one by location."""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils.errors import StoreError
from ansible_collections.mdm.vpp.plugins.module_utils.store.dialects.sqlite import SQLiteDialect


def dialect_for(location, busy_timeout):
    """The dialect of store ``location``: PostgreSQL for a ``postgresql://`` DSN, else SQLite."""
    scheme = location.split("://", 1)[0].lower() if "://" in location else ""
    if scheme in ("postgresql", "postgres"):
        # Imported here: only PostgreSQL users need psycopg (and pay for importing it).
        from ansible_collections.mdm.vpp.plugins.module_utils.store.dialects.postgresql import PostgreSQLDialect

        return PostgreSQLDialect(location, busy_timeout)
    if scheme not in ("", "sqlite"):
        raise StoreError(
            "unsupported store location scheme %r" % scheme,
            hint="give a file path, sqlite:///absolute/path/vpp.db or a postgresql:// DSN",
        )
    return SQLiteDialect(location, busy_timeout)
