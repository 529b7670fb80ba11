# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Copy a whole store to another location: a SQLite file into PostgreSQL when a team moves to AWX, and back.

Every table is copied row for row in dependency order, ids included, streaming (memory stays flat), into a new
store in one transaction: an interrupted copy leaves the target empty. The source is read inside a write
transaction, so no job changes it half-way. The copy keeps the store key (the same passphrase opens both stores)
and the manager identity Apple knows the source by. Used by ``tools/store-copy`` and ``playbooks/store_copy.yml``.

A client of the store: it opens stores through the package (which never imports it back) and moves whole tables
with ``repos/tables.py``.
"""

from __future__ import annotations

import os

from ansible_collections.mdm.vpp.plugins.module_utils.errors import StoreError
from ansible_collections.mdm.vpp.plugins.module_utils.store import open_store
from ansible_collections.mdm.vpp.plugins.module_utils.store.keys import read_key_file
from ansible_collections.mdm.vpp.plugins.module_utils.store.location import key_from_environment

# Parents before children, so foreign keys hold at every row.
COPY_ORDER = (
    "meta",
    "tokens",
    "metadata",
    "assets",
    "assignments",
    "users",
    "applications",
    "deployments",
    "deployment_members",
    "events",
    "audit",
    "mdm_answers",
    "apple_notifications",
)
# Lock rows name processes of the source's jobs: they mean nothing in another store.
NOT_COPIED = ("locks",)


def tables_to_copy(table_names):
    """``COPY_ORDER`` after checking it covers every table of a store (a new table must be added to it)."""
    unknown = sorted(set(table_names) - set(COPY_ORDER) - set(NOT_COPIED))
    if unknown:
        raise StoreError(
            "the store has tables this copy does not know: %s" % ", ".join(unknown),
            hint="use the store copy of the same collection version as the store",
        )
    return COPY_ORDER


def source_passphrase(source, key):
    """The passphrase that opened ``source``: the key given, ``VPP_STORE_KEY``, or its key file's content."""
    key = key_from_environment(key)
    if key is None and source.key_file:
        key = read_key_file(source.key_file)
    return key


def write_key_file(path, passphrase):
    """Give a SQLite copy the key file its source had (mode 0600; never overwrite one)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise StoreError(
            "cannot write the key file %s of the copy: %s" % (path, exc.strerror),
            hint="remove the old copy and its key file, or pass store_key",
        ) from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(passphrase + "\n")


def _refuse_used_target(target):
    if target.count_tokens():
        raise StoreError(
            "store %s already holds %d token(s): a copy goes into a new, empty store only"
            % (target.location, target.count_tokens()),
            hint="choose a new SQLite file or an empty PostgreSQL database",
        )


def copy_store(source_location, target_location, key=None):
    """Copy store ``source_location`` into the new store ``target_location``; return a summary.

    ``key`` opens the source (default ``VPP_STORE_KEY``, else the source's key file) and, afterwards, the copy.
    The summary: ``source`` and ``target`` (locations without passwords), ``rows`` (``{table: count}``),
    ``key_file`` (the key file written beside a SQLite copy, else None).
    """
    if str(source_location) == str(target_location):
        raise StoreError("the source and the target of a store copy are the same store")
    with open_store(source_location, key=key) as source:
        passphrase = source_passphrase(source, key)
        with open_store(target_location, key=passphrase) as target:
            _refuse_used_target(target)
            rows = _copy_tables(source, target)
            summary = {"source": source.location, "target": target.location, "rows": rows, "key_file": None}
            key_file = target.db.dialect.key_file
        if key_file and source.key_file and not key:
            write_key_file(key_file, passphrase)
            summary["key_file"] = key_file
    # The copied key material must open the copy with the same passphrase: prove it before reporting success.
    with open_store(target_location, key=passphrase) as copy:
        for token in copy.list_tokens():
            copy.get_token_secret(token["name"])
    return summary


def _copy_tables(source, target):
    counts = {}
    with source.transaction(rollback=True), target.transaction():
        if source.schema_version != target.schema_version:
            raise StoreError(
                "the source has schema version %d, the target %d" % (source.schema_version, target.schema_version)
            )
        for table in tables_to_copy(source.table_names()):
            columns = source.table_columns(table)
            counts[table] = target.replace_table_rows(table, columns, source.iter_table_rows(table))
    return counts
