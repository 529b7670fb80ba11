# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The store's database: per-thread connections, statements, transactions and savepoints, error translation.

The only code that runs statements on a connection. Statements are written with ``?`` placeholders; the dialect
(``dialects/``) turns them into its engine's style, opens connections and translates the driver's errors into
``StoreError``. A ``Database`` may be shared by threads: each thread gets its own connection.
"""

from __future__ import annotations

import contextlib
import threading

from ansible_collections.mdm.vpp.plugins.module_utils.errors import StoreError
from ansible_collections.mdm.vpp.plugins.module_utils.store.rows import BATCH_SIZE, row_dict


class Database:
    """Connections and statements of one store location, through its ``dialect``."""

    def __init__(self, dialect):
        self.dialect = dialect
        self._local = threading.local()
        self._connections = []
        self._connections_guard = threading.Lock()

    def __repr__(self):
        return "<Database %s %s>" % (self.dialect.name, self.dialect.location)

    @property
    def connection(self):
        """This thread's connection (opened on first use)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self.dialect.connect()
            self._local.conn = conn
            self._local.depth = 0
            with self._connections_guard:
                self._connections.append(conn)
        return conn

    def close(self):
        """Close every connection this database opened (in any thread)."""
        with self._connections_guard:
            connections, self._connections = self._connections, []
        for conn in connections:
            with contextlib.suppress(Exception):
                conn.close()
        self._local = threading.local()

    # -- statements ----------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _translated_errors(self):
        """Turn the driver's errors into ``StoreError`` (what failed, why, what to do), never a driver traceback."""
        try:
            yield
        except self.dialect.errors as exc:
            raise self.dialect.translate_error(exc) from None

    def execute(self, sql, params=()):
        """Run one statement; return the driver's cursor (for ``rowcount`` and ``description``)."""
        with self._translated_errors():
            return self.connection.execute(self.dialect.sql(sql), params)

    def executemany(self, sql, rows):
        """Run one statement once for each parameter row; return the driver's cursor."""
        with self._translated_errors():
            return self.connection.executemany(self.dialect.sql(sql), rows)

    def fetch_all(self, sql, params=()):
        """Every row of a query, as dictionaries (``rows.row_dict``)."""
        cursor = self.execute(sql, params)
        with self._translated_errors():
            return [row_dict(cursor, row) for row in cursor.fetchall()]

    def fetch_one(self, sql, params=()):
        """The first row of a query as a dictionary, or None."""
        cursor = self.execute(sql, params)
        with self._translated_errors():
            row = cursor.fetchone()
        return None if row is None else row_dict(cursor, row)

    def scalar(self, sql, params=()):
        """The first column of the first row of a query, or None."""
        cursor = self.execute(sql, params)
        with self._translated_errors():
            row = cursor.fetchone()
        return None if row is None else row[0]

    def stream(self, sql, params=(), make_row=None):
        """Rows as dictionaries (or ``make_row(cursor, row)``), fetched in batches so memory stays flat.

        Other statements may run on the same connection between two rows (a server-side cursor on PostgreSQL).
        """
        make_row = make_row or row_dict
        with self._translated_errors():
            cursor = self.dialect.open_cursor(self.connection, self.dialect.sql(sql), params)
        try:
            while True:
                with self._translated_errors():
                    rows = cursor.fetchmany(BATCH_SIZE)
                if not rows:
                    return
                for row in rows:
                    yield make_row(cursor, row)
        finally:
            with contextlib.suppress(*self.dialect.errors):
                cursor.close()

    def insert(self, table, values):
        """Insert one row of ``values`` (``{column: value}``) into ``table``."""
        columns = sorted(values)
        return self.execute(
            "INSERT INTO %s (%s) VALUES (%s)" % (table, ", ".join(columns), ", ".join("?" * len(columns))),
            [values[column] for column in columns],
        )

    def update(self, table, values, where, params):
        """Set ``values`` (``{column: value}``) in the rows of ``table`` matching ``where`` (with ``params``)."""
        columns = sorted(values)
        assignments = ", ".join("%s = ?" % column for column in columns)
        return self.execute(
            "UPDATE %s SET %s WHERE %s" % (table, assignments, where), [values[c] for c in columns] + list(params)
        )

    def delete_in_batches(self, table, where, params=(), batch=BATCH_SIZE):
        """Delete the rows of ``table`` (which has an ``id`` key) matching ``where``, ``batch`` at a time, each batch
        its own transaction: a writer waits for one batch, never for the whole. Returns how many rows went."""
        statement = "DELETE FROM %s WHERE id IN (SELECT id FROM %s WHERE %s LIMIT %d)" % (table, table, where, batch)
        deleted = 0
        while True:
            with self.transaction():
                count = self.execute(statement, params).rowcount
            deleted += count
            if count < batch:
                return deleted

    # -- transactions --------------------------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self, rollback=False, shared=True):
        """Run the block in one transaction: commit on success, roll back on any error.

        Nested blocks become savepoints, so an inner failure that the caller handles undoes only the inner block.
        ``rollback=True`` undoes the block even when it succeeds (check mode: run the real code, keep nothing);
        inside it, the block sees its own writes. ``shared=False`` is for a block that writes only this
        connection's temporary tables: it does not wait for, nor hold, the store's write lock.
        """
        conn = self.connection
        depth = self._local.depth
        savepoint = "sp%d" % depth
        if depth == 0:
            self._execute_control(self.dialect.begin if shared else self.dialect.begin_private, conn)
        else:
            self._execute_control(conn.execute, "SAVEPOINT " + savepoint)
        self._local.depth = depth + 1
        try:
            yield self
        except BaseException:
            self._local.depth = depth
            with contextlib.suppress(*self.dialect.errors):
                self._undo(conn, depth, savepoint)
            raise
        self._local.depth = depth
        if rollback:
            self._execute_control(self._undo, conn, depth, savepoint)
            return
        try:
            self._execute_control(conn.execute, "COMMIT" if depth == 0 else "RELEASE SAVEPOINT " + savepoint)
        except StoreError:
            with contextlib.suppress(*self.dialect.errors):
                self._undo(conn, depth, savepoint)  # a failed commit must not leave the connection mid-transaction
            raise

    @staticmethod
    def _undo(conn, depth, savepoint):
        if depth == 0:
            conn.execute("ROLLBACK")
        else:
            conn.execute("ROLLBACK TO SAVEPOINT " + savepoint)
            conn.execute("RELEASE SAVEPOINT " + savepoint)

    def _execute_control(self, action, *arguments):
        with self._translated_errors():
            action(*arguments)

    def in_transaction(self):
        """Whether this thread is inside a ``transaction()`` block."""
        return getattr(self._local, "depth", 0) > 0
