# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The SQLite dialect of the store (the default): the file, its pragmas, types, ``BEGIN IMMEDIATE`` and the
lock-row lock."""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import sqlite3
import time
import urllib.parse
import uuid

from ansible_collections.mdm.vpp.plugins.module_utils.errors import StoreError
from ansible_collections.mdm.vpp.plugins.module_utils.store.dialects.base import DEFAULT_BUSY_TIMEOUT, Dialect
from ansible_collections.mdm.vpp.plugins.module_utils.store.location import missing_store
from ansible_collections.mdm.vpp.plugins.module_utils.store.locks import (
    delete_lock_row,
    is_stale,
    read_lock_row,
    write_lock_row,
)

SQLITE_HEADER = b"SQLite format 3\x00"  # the first 16 bytes of every SQLite database file


def sqlite_path(location):
    """The absolute file path of a SQLite location (a plain path or ``sqlite:///abs/path``)."""
    if location.startswith("sqlite://"):
        path = location[len("sqlite://") :]
        if not path.startswith("/"):
            raise StoreError(
                "store location %r is not a valid SQLite URL" % location,
                hint="write sqlite:///absolute/path/vpp.db (three slashes) or give a plain file path",
            )
        return path
    return os.path.abspath(os.path.expanduser(location))


def check_sqlite_file(path):
    """Refuse a store file that is empty or not an SQLite database: never initialise it silently.

    The file is read through SQLite, never with ``open()``: closing any descriptor of a database file drops every
    POSIX lock the process holds on it, those of the SQLite connections of the same process included (an
    ansible-rulebook running vpp_events and vpp_changes on one store; sqlite.org/howtocorrupt.html section 2.2).
    """
    try:
        empty = os.stat(path).st_size == 0
        if not os.access(path, os.R_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))
    except OSError as exc:
        raise StoreError(
            "cannot read the store %s: %s" % (path, exc.strerror or exc),
            hint="make the store file readable, or choose another location (store / VPP_STORE)",
        ) from None
    if empty or not has_sqlite_header(path):
        raise StoreError(
            "store %s is empty or not an SQLite database" % path, hint="restore it from a backup or move it away"
        )


def has_sqlite_header(path):
    """Whether SQLite reads ``path`` as a database (it refuses a file without its header)."""
    conn = sqlite3.connect("file:%s?mode=ro" % urllib.parse.quote(path), uri=True)
    try:
        conn.execute("PRAGMA schema_version").fetchone()
        return True
    except sqlite3.DatabaseError as exc:
        return "not a database" not in str(exc)
    finally:
        conn.close()


class SQLiteDialect(Dialect):
    """Everything SQLite-specific: the file, its pragmas, types, ``BEGIN IMMEDIATE`` and the lock-row lock."""

    name = "sqlite"
    types = {
        "pk": "INTEGER PRIMARY KEY AUTOINCREMENT",
        "bool": "INTEGER",
        "false": "0",
        "float": "REAL",
        "bigint": "INTEGER",
    }
    errors = (sqlite3.Error,)

    def __init__(self, location, busy_timeout=DEFAULT_BUSY_TIMEOUT):
        self.path = sqlite_path(location)
        self.location = self.path
        self.busy_timeout = busy_timeout
        self.key_file = self.path + ".key"

    def sql(self, text):
        """Statements are written with ``?`` placeholders, SQLite's own style."""
        return text

    def prepare(self, create=True):
        """Create the private directory and the 0600 database file before SQLite touches them (``create``), else
        refuse a missing store; refuse a dangling symlink, and a file that is empty or not an SQLite database."""
        if os.path.islink(self.path) and not os.path.exists(self.path):
            raise StoreError(
                "store %s is a symbolic link to %s, which does not exist" % (self.path, os.readlink(self.path)),
                hint="give the path of the store itself with the store option or VPP_STORE, or remove the link",
            )
        if os.path.exists(self.path):
            check_sqlite_file(self.path)
            return
        if not create:
            raise missing_store(self.path)
        directory = os.path.dirname(self.path)
        try:
            if not os.path.isdir(directory):
                os.makedirs(directory, mode=0o700, exist_ok=True)
                os.chmod(directory, 0o700)
            self._create_database_file()
        except OSError as exc:
            # makedirs says only "File exists" when a file stands where the store's directory should be
            reason = "%s is a file, not a directory" % directory if os.path.isfile(directory) else exc.strerror
            raise StoreError(
                "cannot create the store %s: %s" % (self.path, reason or exc),
                hint="choose a writable location with the store option or VPP_STORE",
            ) from None

    def _create_database_file(self):
        """Put a 0600 SQLite file (header written, no tables yet) at the path in one step: another process never
        sees an empty file there, which the next open refuses as damaged. When two create at once, the first wins."""
        temporary = "%s.%s.tmp" % (self.path, uuid.uuid4().hex)
        try:
            os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            try:
                conn = sqlite3.connect(temporary)
                conn.execute("PRAGMA journal_mode = WAL")  # writes the header (and WAL mode) into the file
                conn.close()
            except sqlite3.Error as exc:
                raise OSError(str(exc)) from None
            with contextlib.suppress(FileExistsError):
                os.link(temporary, self.path)  # never replaces
        finally:
            for leftover in (temporary, temporary + "-wal", temporary + "-shm"):
                with contextlib.suppress(OSError):
                    os.unlink(leftover)

    def connect(self):
        """A connection in autocommit mode (transactions are explicit), WAL, foreign keys on."""
        try:
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = %d" % int(self.busy_timeout * 1000))
            conn.execute("PRAGMA journal_mode = WAL")
            # NORMAL is crash-safe in WAL mode (a killed process never corrupts); only power loss may drop the
            # last commits.
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            # A large sync merges a million rows into big indexes in one transaction: a checkpoint every 40 MiB
            # of WAL instead of every 4 MiB, and an 8 MiB page cache (also the sorter's memory) instead of 2 MiB
            # (docs/BENCHMARKS.md). Both are upper bounds, used on demand: memory stays flat at any size.
            conn.execute("PRAGMA cache_size = -8192")
            conn.execute("PRAGMA wal_autocheckpoint = 10000")
            # Sync staging tables are temporary, kept in a file (deleted on close) past 4 MiB of cache: they are
            # only appended to, then read in one pass.
            conn.execute("PRAGMA temp_store = FILE")
            conn.execute("PRAGMA temp.cache_size = -4096")
        except sqlite3.Error as exc:
            raise self.translate_error(exc) from None
        return conn

    def begin(self, conn):
        # IMMEDIATE takes the write lock up front, so busy_timeout applies instead of a failed lock upgrade later.
        conn.execute("BEGIN IMMEDIATE")

    def begin_private(self, conn):
        # deferred: writing only the temp database never locks the store's file
        conn.execute("BEGIN")

    def open_cursor(self, conn, sql, params):
        """A cursor for ``Database.stream()``: SQLite steps through the result as it is fetched."""
        return conn.execute(sql, params)

    def table_names(self, db):
        rows = db.fetch_all("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'")
        return [row["name"] for row in rows]

    def continue_ids_after_max(self, db, table):
        """Nothing to do: AUTOINCREMENT already continues after the largest id ever inserted."""

    def table_exists(self, db, table):
        return db.scalar("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)) > 0

    def differs(self, left, right):
        """Null-safe inequality."""
        return "%s IS NOT %s" % (left, right)

    def translate_error(self, exc):
        text = str(exc)
        if "not a database" in text or "malformed" in text:
            hint = "the file is damaged or is not an mdm.vpp store: restore it from a backup or move it away"
        elif "locked" in text or "busy" in text:
            hint = "another process kept the store busy; run again when it has finished"
        elif "readonly" in text or "unable to open" in text or "disk I/O" in text:
            hint = "make the store file and its directory writable, or choose another location (store / VPP_STORE)"
        else:
            hint = None
        return StoreError("store %s: %s" % (self.path, text), hint=hint)

    def try_lock(self, db, name, owner, lease):
        """Take the lock row of ``name`` in one short write transaction; return the live holder when refused."""
        now = time.time()
        with db.transaction():
            holder = read_lock_row(db, name)
            if holder and not is_stale(holder, socket.gethostname(), now):
                return holder
            write_lock_row(db, name, owner, now + lease)
        return None

    def renew_lock(self, db, name, owner, lease):
        with db.transaction():
            expires_at = time.time() + lease
            db.execute("UPDATE locks SET expires_at = ? WHERE name = ? AND owner = ?", (expires_at, name, owner))

    def unlock(self, db, name, owner):
        delete_lock_row(db, name, owner)
