# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PostgreSQL dialect's pure helpers (no server needed): placeholders, lock keys, DSNs without passwords."""

from __future__ import annotations

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.errors import StoreError
from ansible_collections.mdm.vpp.plugins.module_utils.store.dialects.postgresql import (
    redacted_dsn,
    to_psycopg_sql,
    token_lock_key,
)


def test_placeholders_become_psycopg_style_outside_quoted_literals():
    assert to_psycopg_sql("SELECT a FROM t WHERE b = ? AND c = '?' AND d = ?") == (
        "SELECT a FROM t WHERE b = %s AND c = '?' AND d = %s"
    )
    assert to_psycopg_sql("SELECT '100%' || ?, 'it''s ?'") == "SELECT '100%%' || %s, 'it''s ?'"


def test_token_lock_keys_are_stable_signed_64_bit_and_distinct():
    keys = {token_lock_key("school-%d" % index) for index in range(1000)}
    assert len(keys) == 1000
    assert all(-(2**63) <= key < 2**63 for key in keys)
    assert token_lock_key("école") == token_lock_key("école")
    assert token_lock_key("school") == -2318563947932591530  # the same on every node, whatever the Python


def test_the_displayed_dsn_never_has_the_password():
    shown = redacted_dsn("postgresql://vpp:s3cr%40t@db.example.org:6432/licenses?sslmode=require")
    assert shown == "postgresql://vpp@db.example.org:6432/licenses"
    assert "s3cr" not in shown


def test_an_invalid_dsn_is_a_clear_error_without_its_text():
    with pytest.raises(StoreError, match="not a valid DSN") as caught:
        redacted_dsn("postgresql://vpp:hunter2@db/x?no_such_option=1")
    assert "hunter2" not in str(caught.value)
