# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every snapshot does: stage rows in a temporary table of its connection, in batches, and drop it after."""

from __future__ import annotations

import contextlib
import functools
import itertools

from ansible_collections.mdm.vpp.plugins.module_utils.errors import StoreError
from ansible_collections.mdm.vpp.plugins.module_utils.store.repos.tokens import token_id
from ansible_collections.mdm.vpp.plugins.module_utils.store.rows import BATCH_SIZE, batches


class Snapshot:
    """A sync of one dataset of one token in progress; see ``Store.begin_assignment_snapshot()``.

    Rows are staged in a temporary table of this connection (created anew for each snapshot): staging writes
    nothing to the shared store, takes no write lock, and leaves nothing behind when the job dies. The staging
    table has no index while rows arrive (Apple's order is random with respect to any key, and random index
    inserts were most of a large sync's cost); ``finish()`` sorts once.

    A subclass names its ``staging_table``, ``staging_columns``, ``staging_width`` and ``insert_staging_sql``, and
    implements ``staging_values(row)`` and ``finish()``.
    """

    staging_table = None
    staging_columns = None
    staging_width = None
    insert_staging_sql = None

    def __init__(self, db, token):
        self.db = db
        self.token = token
        self.token_id = token_id(db, token)
        self.rows_received = 0
        self._drop_staging()  # this connection's leftovers of an interrupted snapshot
        db.execute("CREATE TEMPORARY TABLE %s (%s)" % (self.staging_table, self.staging_columns))

    def __repr__(self):
        return "<%s of token %r, %d rows>" % (type(self).__name__, self.token, self.rows_received)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *_):
        if exc_type is not None:
            self.abort()

    def add_rows(self, rows):
        """Stage ``rows`` (any iterable, e.g. one page) in batches of ``BATCH_SIZE``."""
        self.stage(map(self.staging_values, rows))

    def stage(self, values):
        """Stage rows given as tuples of staging values, in batches of ``BATCH_SIZE``."""
        self.stage_lists(batches(values))

    def stage_lists(self, lists):
        """Stage rows given as lists of tuples of staging values (e.g. one list a page), ``BATCH_SIZE`` a statement.

        All in one transaction of this connection's temporary database (it takes no lock of the store): a
        BEGIN and a COMMIT a batch were two more hand-overs of the GIL to the threads reading the next pages.
        """
        with self.db.transaction(shared=False):
            for values in lists:
                for start in range(0, len(values), BATCH_SIZE):
                    batch = values[start : start + BATCH_SIZE] if len(values) > BATCH_SIZE else values
                    self.insert_batch(batch)
                    self.rows_received += len(batch)

    def insert_batch(self, batch):
        """Insert one batch of staging values."""
        # One statement a batch, not executemany(): the driver hands the GIL over once a row, and each time waits
        # for the threads that are reading the next pages (a third of a large sync's time went there).
        self.db.execute(self._insert_sql(len(batch)), list(itertools.chain.from_iterable(batch)))

    @classmethod
    @functools.lru_cache(maxsize=8)
    def _insert_sql(cls, count):
        """The INSERT of ``count`` staged rows in one statement (``BATCH_SIZE`` x 5 parameters at most)."""
        row = "(%s)" % ", ".join("?" * cls.staging_width)
        return cls.insert_staging_sql % ", ".join([row] * count)

    def abort(self):
        """Drop the staged rows; the live data was never touched."""
        # best effort: the error that made the sync abort is the one to report (and the table dies with the
        # connection anyway)
        with contextlib.suppress(StoreError):
            self._drop_staging()

    def _drop_staging(self):
        self.db.execute("DROP TABLE IF EXISTS " + self.staging_table)

    def token_has_rows(self, table):
        """Whether this snapshot's token has any row in the live ``table``."""
        return self.db.scalar("SELECT 1 FROM %s WHERE token_id = ? LIMIT 1" % table, (self.token_id,)) is not None

    def finish_common(self, version_column, version_id):
        """Drop the staging table and store the dataset's ``version_id`` (when given) in ``version_column``."""
        self._drop_staging()
        if version_id is not None:
            self.db.execute("UPDATE tokens SET %s = ? WHERE id = ?" % version_column, (version_id, self.token_id))

    def staging_values(self, row):
        """The staging values (a tuple in ``staging_columns`` order) of one row as a caller gives it."""
        raise NotImplementedError
