# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PostgreSQL dialect of the state store (psycopg 3), selected by a ``postgresql://`` store location.

The store's SQL is shared with SQLite; this dialect (``dialects/base.py``) only says how PostgreSQL differs:

- placeholders: the store writes ``?``, psycopg wants ``%s`` (and a literal ``%`` doubled);
- write transactions: ``BEGIN`` plus a transaction-level advisory lock on the whole store, so writers take turns
  exactly as with SQLite's ``BEGIN IMMEDIATE`` (no lost update, no deadlock between two store transactions);
  waiting for it is bounded by ``lock_timeout`` (the store's busy timeout);
- per-token locks: session-level advisory locks (``pg_try_advisory_lock`` on a hash of the token name), polled by
  ``Store.token_lock()`` until its timeout. The server releases them when their session ends, so the lock of a
  killed job, on any execution node, is free at once and needs no lease. The ``locks`` table only tells a waiting
  job who holds the lock;
- streaming reads: server-side cursors, fetched in batches, so memory stays flat on the controller;
- the store key is never kept in a file: ``store_key`` / ``VPP_STORE_KEY`` is required.

The DSN may carry a password: it is kept private and never shown (``location`` is the DSN without it).
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import time

try:
    import psycopg
    from psycopg import conninfo

    HAS_PSYCOPG = True
except ImportError:  # the PostgreSQL store is optional: only its users need psycopg
    HAS_PSYCOPG = False

from ansible_collections.mdm.vpp.plugins.module_utils.errors import StoreError
from ansible_collections.mdm.vpp.plugins.module_utils.store.dialects.base import Dialect
from ansible_collections.mdm.vpp.plugins.module_utils.store.locks import delete_lock_row, read_lock_row, write_lock_row

# The whole-store writer lock, in the two-integer advisory key space (which never overlaps the one-bigint space
# of the token locks): "mdvp", 1.
WRITER_LOCK = (0x6D647670, 1)
CONNECT_TIMEOUT = 15
APPLICATION_NAME = "mdm.vpp"

_QUOTED = re.compile(r"('(?:[^']|'')*')")
# libpq's words for a server it could not reach
_UNREACHABLE = ("Connection refused", "resolve host", "could not translate host name", "timeout expired")


def token_lock_key(name):
    """The advisory lock key of token ``name``: a signed 64-bit hash, the same on every node and server version."""
    digest = hashlib.sha256(b"mdm.vpp token lock\0" + name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@functools.lru_cache(maxsize=512)
def to_psycopg_sql(text):
    """A store statement with ``?`` placeholders in psycopg's ``%s`` style (``?`` inside quoted literals kept)."""
    parts = _QUOTED.split(text.replace("%", "%%"))
    return "".join(part if index % 2 else part.replace("?", "%s") for index, part in enumerate(parts))


def redacted_dsn(dsn):
    """The DSN as ``postgresql://user@host:port/dbname``: enough to recognise it, never its password."""
    try:
        params = conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        raise StoreError(
            "the PostgreSQL store location is not a valid DSN",
            hint="write it as postgresql://user:password@host:5432/dbname (store / VPP_STORE)",
        ) from None
    user = params.get("user") or os.environ.get("PGUSER") or ""
    host = params.get("host") or params.get("hostaddr") or os.environ.get("PGHOST") or "localhost"
    port = params.get("port") or os.environ.get("PGPORT") or "5432"
    dbname = params.get("dbname") or os.environ.get("PGDATABASE") or user
    return "postgresql://%s%s:%s/%s" % (user + "@" if user else "", host, port, dbname)


def _password_of(dsn):
    try:
        return conninfo.conninfo_to_dict(dsn).get("password") or os.environ.get("PGPASSWORD")
    except psycopg.ProgrammingError:
        return None


def _hint_for(text, sqlstate):
    """What to do about a PostgreSQL error, from its SQLSTATE or (for connection failures) its message."""
    if sqlstate in ("55P03", "57014", "40P01", "40001"):
        return "another job kept the store busy; run again when it has finished"
    if sqlstate == "42501" or "permission denied" in text:
        return "grant the store's role the privileges to create and use tables in its database"
    if "password authentication failed" in text or "no password supplied" in text:
        return "check the user name and password in the store DSN (store / VPP_STORE)"
    if "does not exist" in text and "database" in text:
        return "create the database (createdb) or fix the database name in the store DSN"
    if any(marker in text for marker in _UNREACHABLE):
        return "check that the PostgreSQL server runs and that the host and port in the store DSN are right"
    return None


class _Connection:
    """A psycopg connection with the ``execute`` / ``executemany`` calls the store makes on a sqlite3 one."""

    def __init__(self, raw):
        self.raw = raw

    def execute(self, sql, params=()):
        return self.raw.execute(sql, params)

    def executemany(self, sql, rows):
        cursor = self.raw.cursor()
        cursor.executemany(sql, rows)
        return cursor

    def close(self):
        self.raw.close()


class PostgreSQLDialect(Dialect):
    """Everything PostgreSQL-specific; see the module docstring."""

    name = "postgresql"
    types = {
        "pk": "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        "bool": "BOOLEAN",
        "false": "FALSE",
        "float": "DOUBLE PRECISION",
        "bigint": "BIGINT",
    }
    errors = (psycopg.Error,) if HAS_PSYCOPG else ()
    # No key file: a shared store's key comes from store_key / VPP_STORE_KEY (an AWX credential).
    key_file = None

    def __init__(self, location, busy_timeout):
        if not HAS_PSYCOPG:
            raise StoreError(
                "a PostgreSQL store needs the Python library psycopg 3",
                hint="install psycopg (pip install 'psycopg[binary]') on the controller or execution environment",
            )
        self._dsn = location
        self._password = _password_of(location)
        self.location = redacted_dsn(location)
        self.busy_timeout = busy_timeout

    def __repr__(self):
        return "<PostgreSQLDialect %s>" % self.location

    def sql(self, text):
        return to_psycopg_sql(text)

    def prepare(self, create=True):
        """Nothing to create up front: the database must exist, the migrations create the tables (``Store`` refuses
        a database without them when ``create`` is false)."""

    def connect(self):
        """A connection in autocommit mode (transactions are explicit) that waits at most the busy timeout."""
        try:
            raw = psycopg.connect(
                self._dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT, application_name=APPLICATION_NAME
            )
            raw.execute("SELECT set_config('lock_timeout', %s, false)", ("%dms" % int(self.busy_timeout * 1000),))
        except psycopg.Error as exc:
            raise self.translate_error(exc) from None
        return _Connection(raw)

    def begin(self, conn):
        conn.execute("BEGIN")
        try:
            conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", WRITER_LOCK)
        except BaseException:
            conn.execute("ROLLBACK")  # gave up waiting: leave the connection usable, outside any transaction
            raise

    def begin_private(self, conn):
        # temporary tables are the session's own: no need to wait for the whole-store writer lock
        conn.execute("BEGIN")

    def open_cursor(self, conn, sql, params):
        """A server-side cursor: rows come in ``fetchmany()`` batches, and other statements may run in between.

        WITH HOLD lets it outlive the transaction it was opened in (in autocommit mode, its own statement).
        """
        cursor = conn.raw.cursor(name="mdm_vpp_%s" % os.urandom(8).hex(), withhold=True)
        cursor.execute(sql, params)
        return cursor

    def table_exists(self, db, table):
        return (
            db.scalar(
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() "
                "AND table_name = ?",
                (table,),
            )
            > 0
        )

    def table_names(self, db):
        rows = db.fetch_all("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
        return [row["table_name"] for row in rows]

    def continue_ids_after_max(self, db, table):
        """Move the identity sequence of ``table`` past the largest id (rows were loaded with their ids)."""
        db.execute(
            "SELECT setval(pg_get_serial_sequence(?, 'id'), COALESCE(MAX(id), 0) + 1, false) FROM %s" % table,
            (table,),
        )

    def differs(self, left, right):
        """Null-safe inequality."""
        return "%s IS DISTINCT FROM %s" % (left, right)

    def translate_error(self, exc):
        """A ``StoreError`` saying what failed and what to do; the DSN's password never appears in it."""
        text = str(exc).strip()
        if self._password:
            text = text.replace(self._password, "***")
        text = text.removeprefix("connection failed: ").splitlines()[0] if text else type(exc).__name__
        return StoreError("store %s: %s" % (self.location, text), hint=_hint_for(text, getattr(exc, "sqlstate", None)))

    # -- per-token locks ---------------------------------------------------------------------------------------

    def try_lock(self, db, name, owner, lease):
        """Take the advisory lock of ``name`` without waiting; return who holds it when refused."""
        if db.scalar("SELECT pg_try_advisory_lock(?)", (token_lock_key(name),)):
            try:
                with db.transaction():
                    write_lock_row(db, name, owner, time.time() + lease)
            except BaseException:
                db.execute("SELECT pg_advisory_unlock(?)", (token_lock_key(name),))
                raise
            return None
        holder = read_lock_row(db, name)
        # The holder may not have written its row yet: it took the lock a moment ago.
        return holder or {"owner": None, "host": "another host", "pid": "?", "acquired_at": "a moment ago"}

    def renew_lock(self, db, name, owner, lease):
        """Nothing to renew: an advisory lock lasts as long as its session, however long the work takes."""

    def unlock(self, db, name, owner):
        delete_lock_row(db, name, owner)
        db.execute("SELECT pg_advisory_unlock(?)", (token_lock_key(name),))
