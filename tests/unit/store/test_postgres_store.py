# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What only the PostgreSQL store does: advisory locks without leases, the whole-store writer lock, no key file,
and clear connection errors that never show the DSN's password. Collected only when a test server is given
(``VPP_TEST_POSTGRES_DSN``; ``make postgres-test``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.errors import LockTimeoutError, StoreError, StoreKeyError
from ansible_collections.mdm.vpp.plugins.module_utils.store import open_store
from tests.unit.store import test_processes
from tests.unit.store.test_processes import TOKEN, describe_from_processes, holder

WORKER = str(Path(__file__).with_name("store_worker.py"))
# the second-process fixtures of the contract tests
workers = test_processes.workers
lock_log = test_processes.lock_log


@pytest.fixture(params=["postgresql"])
def store_backend(request):
    return request.param


def with_netloc(dsn, **parts):
    """The DSN with another user, password, port or database."""
    url = urlsplit(dsn)
    user = parts.get("user", url.username)
    password = parts.get("password", url.password)
    port = parts.get("port", url.port)
    netloc = "%s:%s@%s:%s" % (user, password, url.hostname, port)
    return urlunsplit(url._replace(netloc=netloc, path=parts.get("path", url.path)))


def test_a_live_holder_keeps_its_lock_past_its_lease_and_frees_it_on_release(registered, workers, lock_log):
    first = holder(workers, lock_log, "A", "0.5")
    first.expect("locked")
    # The lease (0.5 s) runs out while we wait a whole second: an advisory lock still belongs to its live session.
    with (
        pytest.raises(LockTimeoutError, match="locked by process %d" % first.process.pid),
        registered.token_lock(TOKEN, timeout=1.0),
    ):
        pass
    first.proceed()
    first.expect("released")
    with registered.token_lock(TOKEN, timeout=30):
        assert registered.db.fetch_one("SELECT pid FROM locks WHERE name = ?", (TOKEN,))["pid"] > 0
    assert registered.db.fetch_one("SELECT pid FROM locks WHERE name = ?", (TOKEN,)) is None
    first.finish()


def test_writers_take_turns_and_a_waiting_one_gives_up_after_the_busy_timeout(registered, make_store):
    impatient = make_store(busy_timeout=0.3)
    with registered.transaction():
        registered.upsert_token(TOKEN, description="first writer")
        with pytest.raises(StoreError, match="lock timeout") as caught:
            impatient.upsert_token(TOKEN, description="second writer")
        assert "another job kept the store busy" in str(caught.value)
    assert impatient.upsert_token(TOKEN, description="second writer")["description"] == "second writer"


def test_processes_creating_one_new_store_at_once_share_one_identity(store_location, store_key, child_env):
    outcomes = describe_from_processes(store_location, dict(child_env, VPP_STORE_KEY=store_key))
    assert len({outcome["manager_id"] for outcome in outcomes}) == 1
    assert not any(outcome["key_generated"] for outcome in outcomes)  # no key file for a shared store


def test_a_store_key_is_required(store_location, monkeypatch):
    monkeypatch.delenv("VPP_STORE_KEY", raising=False)
    with pytest.raises(StoreKeyError, match="keeps no key file") as caught:
        open_store(store_location)
    assert "VPP_STORE_KEY" in str(caught.value)


def test_a_store_key_is_required_to_open_an_existing_store(registered, store_location, monkeypatch):
    monkeypatch.delenv("VPP_STORE_KEY", raising=False)
    with pytest.raises(StoreKeyError, match="no key was given"):
        open_store(store_location)


@pytest.mark.parametrize(
    ("change", "message", "hint"),
    [
        ({"password": "wrong-password"}, "password authentication failed", "check the user name and password"),
        ({"path": "/no_such_database"}, 'database "no_such_database" does not exist', "createdb"),
        ({"port": 1}, "Connection refused", "check that the PostgreSQL server runs"),
    ],
)
def test_connection_failures_are_clear_and_never_show_the_password(store_location, change, message, hint):
    dsn = with_netloc(store_location, **change)
    with pytest.raises(StoreError, match=message) as caught:
        open_store(dsn, key="k")
    text = str(caught.value)
    assert hint in text
    assert urlsplit(dsn).password not in text and urlsplit(store_location).password not in text
    assert "postgresql://vpp@127.0.0.1:" in text  # which store: the DSN without its password


def test_the_store_shows_its_dsn_without_the_password(store, store_location):
    password = urlsplit(store_location).password
    assert password not in repr(store) and password not in store.location
    assert store.location.startswith("postgresql://")


def test_streams_stay_open_while_the_same_thread_writes(registered):
    registered.apply_assignment_delta(
        TOKEN, ({"adam_id": "1", "target_kind": "user", "target_id": "u%05d" % i} for i in range(2500))
    )
    copied = 0
    for row in registered.iter_assignments(TOKEN, adam_id="1"):  # a server-side cursor, fetched in batches
        copied += registered.record_assignment(TOKEN, "2", "STDQ", row["target_kind"], row["target_id"])
    assert copied == 2500
    assert registered.count_assignments(TOKEN, adam_id="2") == 2500


def test_without_psycopg_the_error_says_what_to_install(store_location, child_env):
    script = (
        "import sys; sys.modules['psycopg'] = None\n"
        "from ansible_collections.mdm.vpp.plugins.module_utils.store import open_store\n"
        "from ansible_collections.mdm.vpp.plugins.module_utils.errors import StoreError\n"
        "try:\n    open_store(sys.argv[1], key='k')\nexcept StoreError as exc:\n    print(exc)\n"
    )
    output = subprocess.run([sys.executable, "-c", script, store_location], env=child_env, capture_output=True,
                            text=True, timeout=60, check=True).stdout  # fmt: skip
    assert "needs the Python library psycopg 3" in output
    assert "pip install 'psycopg[binary]'" in output
    assert urlsplit(store_location).password not in output
