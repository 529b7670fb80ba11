# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whole tables of the store, row for row with their ids: what ``store/copy.py`` moves between stores."""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils.errors import StoreError
from ansible_collections.mdm.vpp.plugins.module_utils.store.rows import batches, stored_values


class TablesRepo:
    """Mixin of ``Store``: whole tables, for tools that move a store (needs ``self.db``)."""

    def table_names(self):
        """The names of the store's tables, sorted."""
        return sorted(self.db.dialect.table_names(self.db))

    def table_columns(self, table):
        """The column names of ``table``, in the order ``iter_table_rows()`` gives values."""
        if table not in self.table_names():
            raise StoreError("store %s has no table %r" % (self.db.dialect.location, table))
        cursor = self.db.execute("SELECT * FROM %s WHERE 1 = 0" % table)
        return tuple(column[0] for column in cursor.description)

    def iter_table_rows(self, table):
        """Stream every row of ``table`` as a tuple of stored values (JSON as text, booleans as ``bool``), in
        ``table_columns()`` order, sorted by every column."""
        order = ", ".join(self.table_columns(table))
        return self.db.stream("SELECT %s FROM %s ORDER BY %s" % (order, table, order), make_row=stored_values)

    def replace_table_rows(self, table, columns, rows):
        """Make ``rows`` (tuples in ``columns`` order, ids included) all of ``table``'s rows; return how many.

        Identity counters continue after the largest id loaded, so rows added later get new ids.
        """
        count = 0
        with self.db.transaction():
            self.db.execute("DELETE FROM %s" % table)
            insert = "INSERT INTO %s (%s) VALUES (%s)" % (table, ", ".join(columns), ", ".join("?" * len(columns)))
            for batch in batches(rows):
                self.db.executemany(insert, batch)
                count += len(batch)
            if "id" in columns:
                self.db.dialect.continue_ids_after_max(self.db, table)
        return count
