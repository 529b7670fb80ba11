# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Only registering a token creates a store: ``open_store(create=False)`` refuses a missing, empty, foreign or
half-created store and writes nothing; a dangling symbolic link is refused either way."""

from __future__ import annotations

import os
import sqlite3

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.errors import StoreError
from ansible_collections.mdm.vpp.plugins.module_utils.store import open_store


@pytest.fixture
def db_path(tmp_path):
    return str(tmp_path / "private" / "vpp.db")


def test_a_missing_store_is_refused_and_nothing_is_written(tmp_path, db_path):
    with pytest.raises(StoreError) as caught:
        open_store(db_path, create=False)
    assert str(caught.value).startswith("no store at %s: register a token with mdm.vpp.vpp_token first" % db_path)
    assert caught.value.hint
    assert list(tmp_path.iterdir()) == []  # not the directory, not the file, not the key file


def test_an_existing_store_opens_without_create(db_path, content_token):
    with open_store(db_path) as store:
        store.upsert_token("school", content_token())
    with open_store(db_path, create=False) as store:
        assert [row["name"] for row in store.list_tokens()] == ["school"]


@pytest.mark.parametrize("create", [True, False])
def test_an_empty_file_is_refused_as_damaged_never_initialised(db_path, create):
    os.makedirs(os.path.dirname(db_path))
    open(db_path, "wb").close()
    with pytest.raises(StoreError, match="is empty or not an SQLite database: restore it from a backup"):
        open_store(db_path, create=create)
    assert os.path.getsize(db_path) == 0
    assert sorted(os.listdir(os.path.dirname(db_path))) == ["vpp.db"]


def test_an_sqlite_database_without_the_schema_is_refused_without_create(db_path):
    os.makedirs(os.path.dirname(db_path))
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE other (x)")
    conn.close()
    with pytest.raises(StoreError, match="no store at"):
        open_store(db_path, create=False)
    assert not os.path.exists(db_path + ".key")


@pytest.mark.parametrize("create", [True, False])
def test_a_dangling_symlink_is_refused(tmp_path, create):
    target = tmp_path / "elsewhere" / "vpp.db"
    link = tmp_path / "vpp.db"
    link.symlink_to(target)
    with pytest.raises(StoreError, match="is a symbolic link to .*, which does not exist"):
        open_store(str(link), create=create)
    assert not target.parent.exists()
    assert sorted(os.listdir(tmp_path)) == ["vpp.db"]


def test_creating_a_store_leaves_no_temporary_file(db_path):
    with open_store(db_path) as store:
        assert store.schema_version > 0
    assert not [name for name in os.listdir(os.path.dirname(db_path)) if ".tmp" in name]
