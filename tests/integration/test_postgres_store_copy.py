# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The store copy (tools/store-copy): a synced SQLite store into PostgreSQL and back, compared row for row."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.stoken import parse_content_token
from ansible_collections.mdm.vpp.plugins.module_utils.store import open_store
from ansible_collections.mdm.vpp.plugins.module_utils.store.copy import COPY_ORDER, NOT_COPIED
from tests.integration.conftest import Ansible
from tests.integration.test_vpp_sync import LOCATIONS, register_tasks, sync_task
from tests.postgres import fresh_database

REPO_ROOT = Path(__file__).resolve().parents[2]
STORE_COPY = str(REPO_ROOT / "tools" / "store-copy")


@pytest.fixture
def postgres_dsn():
    with fresh_database() as dsn:
        yield dsn


def run_store_copy(source, target, key=None):
    env = {name: value for name, value in os.environ.items() if not name.startswith("VPP_")}
    env["PYTHON"] = sys.executable
    if key:
        env["VPP_STORE_KEY"] = key
    return subprocess.run([STORE_COPY, str(source), str(target)], env=env, capture_output=True,
                          text=True, timeout=300, check=False)  # fmt: skip


def every_row(location, key):
    """``{table: [row, ...]}`` of every copied table, rows as stored and sorted."""
    with open_store(str(location), key=key) as store:
        return {table: list(store.iter_table_rows(table)) for table in COPY_ORDER}


def fill_every_table(location, key):
    """What syncs do not write: an application, a deployment with members, an event, a device answer, a token's
    notification settings and an Apple notification applied."""
    with open_store(str(location), key=key) as store:
        store.upsert_application("pages", token="hq", adam_id="1000000001", categories=["office"])
        store.upsert_deployment("pages-all", application="pages", collection_name="staff", collection_type="user",
                                action="install", purpose="required", options={"notify": True})  # fmt: skip
        store.upsert_members("pages-all", [{"member_id": "u%d" % i, "state": "licensed"} for i in range(5)])
        store.record_event("hq", "ev-1", "ASSOCIATE", deployment="pages-all", request={"members": 5})
        store.record_mdm_answer("cmd-1", "00008030-001A2B3C4D5E802E", "Acknowledged", lambda member: None)
        store.set_notification_settings("hq", "https://events.example.org/apple", "apple-bearer", ["ASSET_COUNT"])
        store.claim_notification("hq", "n-1", "ASSET_MANAGEMENT", "ev-1")
        store.keep_notification("hq", "n-1", {"event_id": "ev-1", "assignments": []})


def test_a_synced_sqlite_store_moves_to_postgresql_and_back_row_for_row(
    tmp_path, collections_path, simulator, postgres_dsn
):
    sqlite_store = tmp_path / "laptop" / "vpp.db"
    ansible = Ansible(tmp_path, collections_path, simulator.url, store=sqlite_store)
    synced = ansible.play([*register_tasks(simulator), sync_task()])
    assert synced.rc == 0, synced.stdout
    key = (tmp_path / "laptop" / "vpp.db.key").read_text().strip()
    fill_every_table(sqlite_store, key)
    original = every_row(sqlite_store, key)
    assert all(original[table] for table in COPY_ORDER), original.keys()

    to_postgres = run_store_copy(sqlite_store, postgres_dsn)  # the key comes from the SQLite key file

    assert to_postgres.returncode == 0, to_postgres.stderr
    password = urlsplit(postgres_dsn).password
    assert password not in to_postgres.stdout + to_postgres.stderr
    assert "copied %s -> postgresql://vpp@" % sqlite_store in to_postgres.stdout
    assert "set VPP_STORE_KEY" in to_postgres.stdout
    assert every_row(postgres_dsn, key) == original

    back = tmp_path / "back" / "vpp.db"
    to_sqlite = run_store_copy(postgres_dsn, back, key=key)

    assert to_sqlite.returncode == 0, to_sqlite.stderr
    assert every_row(back, key) == original
    with open_store(postgres_dsn, key=key) as copy, open_store(str(sqlite_store), key=key) as source:
        assert copy.manager_id == source.manager_id  # Apple knows the copy as the same manager
        assert copy.get_token_secret("hq") == source.get_token_secret("hq")

    # the PostgreSQL copy is a working store: jobs go on from where the SQLite store was (ids continue too)
    on_postgres = Ansible(tmp_path, collections_path, simulator.url, store=postgres_dsn)
    again = on_postgres.play([sync_task(mode="incremental")], env={"VPP_STORE_KEY": key})
    assert again.rc == 0, again.stdout
    assert again.result("sync")["changed"] is False
    assert {token["name"] for token in again.result("sync")["tokens"]} == set(LOCATIONS)
    with open_store(postgres_dsn, key=key) as copy:
        copy.upsert_application("keynote", token="hq", adam_id="1000000002")
        assert copy.get_application("keynote") is not None


def test_a_copy_goes_into_an_empty_store_only(tmp_path, postgres_dsn, simulator):
    source = tmp_path / "a" / "vpp.db"
    with open_store(str(source), key="k") as store:
        store.upsert_token("school", parse_content_token(simulator.tokens[LOCATIONS["hq"]]))
    assert run_store_copy(source, postgres_dsn, key="k").returncode == 0

    again = run_store_copy(source, postgres_dsn, key="k")

    assert again.returncode == 1
    assert "already holds 1 token(s): a copy goes into a new, empty store only" in again.stderr
    assert urlsplit(postgres_dsn).password not in again.stderr


def test_the_copy_knows_every_table_of_the_schema(tmp_path):
    with open_store(str(tmp_path / "vpp.db"), key="k") as store:
        assert sorted(COPY_ORDER + NOT_COPIED) == store.table_names()


def test_the_store_copy_playbook_fills_the_jobs_store(tmp_path, collections_path, simulator, postgres_dsn):
    source = tmp_path / "a" / "vpp.db"
    with open_store(str(source), key="k") as store:
        store.upsert_token("school", parse_content_token(simulator.tokens[LOCATIONS["hq"]]))
    ansible = Ansible(tmp_path, collections_path, simulator.url, store=postgres_dsn)
    playbook = REPO_ROOT / "playbooks" / "store_copy.yml"

    run = ansible.run_playbook(playbook, extra_args=("-e", "store_copy_source=%s" % source),
                               env={"VPP_STORE_KEY": "k"})  # fmt: skip

    assert run.rc == 0, run.stdout
    assert run.result("Copy the store")["changed"] is True
    assert "1 rows" in str(run.result("Report the copy")["msg"])
    assert urlsplit(postgres_dsn).password not in run.stdout
    with open_store(postgres_dsn, key="k") as copy:
        assert [token["name"] for token in copy.list_tokens()] == ["school"]
    again = ansible.run_playbook(playbook, extra_args=("-e", "store_copy_source=%s" % source),
                                 env={"VPP_STORE_KEY": "k"})  # fmt: skip
    assert again.rc != 0
    assert "a copy goes into a new, empty store only" in str(again.result("Report the copy")["msg"])
