# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The contract of a store dialect: what a database engine (or a test fake) must provide to hold a store.

The store's SQL is portable and written with ``?`` placeholders; a dialect says how its engine differs:
connecting, placeholders, column types, null-safe comparison, starting a write transaction, listing tables, the
per-token lock and its driver's errors. Methods that run statements receive the store's ``Database``
(``store/db.py``), never the ``Store``.
"""

from __future__ import annotations

DEFAULT_BUSY_TIMEOUT = 60.0


class Dialect:
    """Base class of the store's dialects; each method below must be implemented by a dialect."""

    #: Short engine name shown in ``repr(store)``: ``"sqlite"``, ``"postgresql"``.
    name = None
    #: Column types filling the migrations' placeholders: ``pk``, ``bool``, ``false``, ``float``, ``bigint``.
    types = {}
    #: The driver's exception classes, which ``translate_error()`` turns into ``StoreError``.
    errors = ()
    #: Where the store keeps its generated key file, or None when a key must always be given.
    key_file = None
    #: The store location as shown in messages (never with a password).
    location = None

    def sql(self, text):
        """A statement written with ``?`` placeholders in this engine's placeholder style."""
        raise NotImplementedError

    def prepare(self, create=True):
        """Check (and with ``create``, create) what must exist before the first connection; without ``create``,
        refuse a store that does not exist (``location.missing_store``)."""
        raise NotImplementedError

    def connect(self):
        """A new connection in autocommit mode (transactions are explicit) with ``execute(sql, params)``,
        ``executemany(sql, rows)`` and ``close()``; the driver's errors are translated."""
        raise NotImplementedError

    def begin(self, conn):
        """Start a write transaction on ``conn`` that holds the store's write lock (writers take turns)."""
        raise NotImplementedError

    def begin_private(self, conn):
        """Start a transaction on ``conn`` that writes only its own temporary tables (no store write lock)."""
        raise NotImplementedError

    def open_cursor(self, conn, sql, params):
        """A cursor over the result of ``sql`` whose ``fetchmany()`` streams the rows (memory stays flat)."""
        raise NotImplementedError

    def table_names(self, db):
        """The names of the store's tables."""
        raise NotImplementedError

    def table_exists(self, db, table):
        """Whether the store has the table ``table``."""
        raise NotImplementedError

    def continue_ids_after_max(self, db, table):
        """Make the ids ``table`` gives next continue after its largest (rows were loaded with their ids)."""
        raise NotImplementedError

    def differs(self, left, right):
        """SQL of a null-safe inequality of the expressions ``left`` and ``right``."""
        raise NotImplementedError

    def translate_error(self, exc):
        """A ``StoreError`` for the driver error ``exc``: what failed, why, what to do (never a secret)."""
        raise NotImplementedError

    def try_lock(self, db, name, owner, lease):
        """Take the lock of token ``name`` for ``owner`` without waiting; return None when taken, else the
        holder's lock row (``locks.read_lock_row``: owner, host, pid, acquired_at, expires_at)."""
        raise NotImplementedError

    def renew_lock(self, db, name, owner, lease):
        """Extend ``owner``'s lock of token ``name`` by ``lease`` seconds from now."""
        raise NotImplementedError

    def unlock(self, db, name, owner):
        """Release ``owner``'s lock of token ``name``."""
        raise NotImplementedError
