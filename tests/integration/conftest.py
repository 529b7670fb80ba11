# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Integration harness: real ``ansible-playbook`` runs of the collection against the simulator.

With ``VPP_TEST_STORE_BACKEND=postgresql`` (and ``VPP_TEST_POSTGRES_DSN``, see ``tests/postgres.py``) every
``Ansible`` gets a fresh PostgreSQL database as its store instead of a SQLite file, opened with one test key.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from tests.postgres import POSTGRES_DSN, create_database, dsn_for

HERE = Path(__file__).resolve().parent
ANSIBLE_BIN = Path(sys.executable).parent
STORE_BACKEND = os.environ.get("VPP_TEST_STORE_BACKEND", "sqlite")
# The PostgreSQL-only tests need a server (make postgres-test): without one they are not collected at all.
collect_ignore_glob = [] if POSTGRES_DSN else ["test_postgres_*.py"]
if STORE_BACKEND == "postgresql":
    # A PostgreSQL store keeps no key file: the plays and the tests' own open_store() calls share this key.
    os.environ.setdefault("VPP_STORE_KEY", "integration tests of the PostgreSQL store")


class PostgresStoreLocation(str):
    """A fresh PostgreSQL database standing in for a store file: ``str()`` is its DSN (with the password)."""

    @classmethod
    def create(cls):
        return cls(dsn_for(create_database()))

    def exists(self):
        """Whether a module created the store yet (as ``Path.exists()`` tells for a SQLite file)."""
        import psycopg

        with psycopg.connect(self) as conn:
            return conn.execute("SELECT to_regclass('meta') IS NOT NULL").fetchone()[0]


@dataclass
class PlaybookRun:
    """What one ``ansible-playbook`` run did: exit code, output and every task result."""

    rc: int
    stdout: str
    stderr: str
    results: list = field(default_factory=list)

    def result(self, task_name):
        """The module result of the (last) task with that name."""
        matches = [r for r in self.results if r["task"] == task_name]
        assert matches, "no task named %r ran; tasks: %s" % (task_name, [r["task"] for r in self.results])
        return matches[-1]["result"]

    def status(self, task_name):
        return [r for r in self.results if r["task"] == task_name][-1]["status"]


class Ansible:
    """Runs plays on localhost with the collection, a private store and the simulator's URL."""

    def __init__(self, workdir, collections_path, api_url, store=None):
        """``store``: where the plays keep their state; default a fresh store of the backend under test."""
        self.workdir = Path(workdir)
        if store is not None:
            self.store = store
        elif STORE_BACKEND == "postgresql":
            self.store = PostgresStoreLocation.create()  # dropped with the throwaway server
        else:
            self.store = self.workdir / "store" / "vpp.db"
        self.env = dict(os.environ)
        self.env.update(
            {
                "ANSIBLE_COLLECTIONS_PATH": str(collections_path),
                "ANSIBLE_CALLBACK_PLUGINS": str(HERE / "callback_plugins"),
                "ANSIBLE_CALLBACKS_ENABLED": "result_log",
                "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
                "ANSIBLE_LOCALHOST_WARNING": "False",
                "ANSIBLE_INVENTORY_UNPARSED_WARNING": "False",
                "ANSIBLE_NOCOLOR": "True",
                "ANSIBLE_RETRY_FILES_ENABLED": "False",
                "ANSIBLE_LOCAL_TEMP": str(self.workdir / "ansible-tmp"),
                "ANSIBLE_HOME": str(self.workdir / "ansible-home"),
                "VPP_STORE": str(self.store),
                "VPP_API_URL": api_url,
                # the simulator finishes events in milliseconds; Apple's 30 s between polls stays the default
                "VPP_EVENT_POLL_INTERVAL": "0.5",
            }
        )
        self.runs = 0

    def play(self, tasks, check=False, diff=False, verbosity=0, extra_args=(), env=None):
        """Run ``tasks`` (a list of task dicts) as one play on localhost; return a PlaybookRun."""
        self.runs += 1
        playbook = self.workdir / ("play-%d.yml" % self.runs)
        play = [{"name": "test play", "hosts": "localhost", "gather_facts": False, "tasks": tasks}]
        playbook.write_text(yaml.safe_dump(play, sort_keys=False))
        return self.run_playbook(playbook, check=check, diff=diff, verbosity=verbosity, extra_args=extra_args, env=env)

    def run_playbook(self, playbook, check=False, diff=False, verbosity=0, extra_args=(), env=None):
        results_file = self.workdir / ("results-%d.jsonl" % self.runs)
        run_env = dict(self.env, VPP_TEST_RESULTS=str(results_file), **(env or {}))
        command = [str(ANSIBLE_BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook)]
        command += ["--check"] if check else []
        command += ["--diff"] if diff else []
        command += ["-" + "v" * verbosity] if verbosity else []
        command += list(extra_args)
        proc = subprocess.run(
            command, env=run_env, cwd=self.workdir, capture_output=True, text=True, timeout=600, check=False
        )
        results = []
        if results_file.exists():
            results = [json.loads(line) for line in results_file.read_text().splitlines() if line.strip()]
        return PlaybookRun(proc.returncode, proc.stdout, proc.stderr, results)


@pytest.fixture
def ansible(tmp_path, collections_path, simulator):
    """An Ansible runner bound to the default simulator and a fresh store."""
    return Ansible(tmp_path, collections_path, simulator.url)
