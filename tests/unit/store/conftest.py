# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the store contract tests.

Every contract test runs once per backend: ``sqlite`` always, ``postgresql`` too when ``VPP_TEST_POSTGRES_DSN``
names a database whose role may create databases (``make postgres-test`` starts such a server): every PostgreSQL
test then gets a database of its own, dropped afterwards.
"""

from __future__ import annotations

import base64
import json
import os
import sys

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.stoken import parse_content_token
from ansible_collections.mdm.vpp.plugins.module_utils.store import open_store
from tests.postgres import POSTGRES_DSN, fresh_database

# The PostgreSQL-only tests need a server: without one they are not collected at all.
collect_ignore = [] if POSTGRES_DSN else ["test_postgres_store.py"]
BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_DSN else [])
TEST_KEY = "correct horse battery staple"


def token_text(secret="c2VjcmV0LXRva2Vu-INNER", exp_date="2031-02-14T09:15:00+0000", org_name="Example School"):
    """The content of a token file as Apple ships it: Base64 of a JSON object, ending with a newline."""
    payload = json.dumps({"token": secret, "expDate": exp_date, "orgName": org_name})
    return base64.b64encode(payload.encode("utf-8")).decode("ascii") + "\n"


@pytest.fixture(params=BACKENDS)
def store_backend(request):
    return request.param


@pytest.fixture
def store_location(store_backend, tmp_path):
    """Where the backend under test keeps a fresh, empty store."""
    if store_backend == "sqlite":
        yield str(tmp_path / "state" / "vpp.db")
        return
    with fresh_database() as dsn:
        yield dsn


@pytest.fixture
def make_store(store_location):
    """Open stores on the location under test (default key ``TEST_KEY``); all closed at teardown."""
    opened = []

    def factory(key=TEST_KEY, **options):
        store = open_store(store_location, key=key, **options)
        opened.append(store)
        return store

    yield factory
    for store in opened:
        store.close()


@pytest.fixture
def store_key():
    """The passphrase the contract tests open their stores with."""
    return TEST_KEY


@pytest.fixture
def store(make_store):
    return make_store()


@pytest.fixture
def content_token():
    """Build a parsed ``ContentToken`` (keyword arguments as ``token_text``)."""
    return lambda **fields: parse_content_token(token_text(**fields))


@pytest.fixture
def registered(store, content_token):
    """A store with one registered token named ``school``."""
    store.upsert_token("school", content_token(), uid="9000000000000001", token_type="education")
    return store


@pytest.fixture
def child_env():
    """Environment for helper processes: same import path as this test process, no inherited store settings."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("VPP_")}
    env["PYTHONPATH"] = os.pathsep.join(path for path in sys.path if path)
    return env
