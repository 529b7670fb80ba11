# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Throwaway PostgreSQL databases for the tests (the server comes from ``tools/postgres.sh``).

``VPP_TEST_POSTGRES_DSN`` names a database whose role may create databases; every test that needs a PostgreSQL
store gets a database of its own from ``fresh_database()``: tests running in parallel never share tables or
advisory locks (both belong to one database).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from urllib.parse import urlsplit, urlunsplit

POSTGRES_DSN = os.environ.get("VPP_TEST_POSTGRES_DSN")


def _admin_connection():
    import psycopg  # only the PostgreSQL test runs need it

    return psycopg.connect(POSTGRES_DSN, autocommit=True)


def dsn_for(dbname):
    """``VPP_TEST_POSTGRES_DSN`` (a ``postgresql://`` URL) pointing at another database of the same server."""
    return urlunsplit(urlsplit(POSTGRES_DSN)._replace(path="/" + dbname))


def create_database():
    """Create an empty database; return its name."""
    name = "vpp_test_%s" % uuid.uuid4().hex
    with _admin_connection() as conn:
        conn.execute("CREATE DATABASE %s" % name)
    return name


def drop_database(name):
    """Drop the database even when a killed test process left sessions in it."""
    with _admin_connection() as conn:
        conn.execute("DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)


@contextlib.contextmanager
def fresh_database():
    """A DSN of a new, empty database, dropped when the block ends."""
    name = create_database()
    try:
        yield dsn_for(name)
    finally:
        drop_database(name)
