# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Store contract with real second processes: per-token locks and crashes in the middle of bulk writes."""

from __future__ import annotations

import json
import os
import select
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.errors import LockTimeoutError

WORKER = str(Path(__file__).with_name("store_worker.py"))
TOKEN = "school"
PREVIOUS_ASSIGNMENTS = 100
PREVIOUS_MEMBERS = 10


def describe_from_processes(location, env, count=4):
    """Open the store at ``location`` from ``count`` processes at once; what each one found (manager id, key...)."""
    processes = [
        subprocess.Popen([sys.executable, WORKER, "describe", location, "-"], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
        for _round in range(count)
    ]  # fmt: skip
    outcomes = []
    for process in processes:
        output, errors = process.communicate(timeout=120)
        assert process.returncode == 0, errors
        outcomes.append(json.loads(output))
    return outcomes


class Worker:
    """A ``store_worker.py`` process driven line by line."""

    def __init__(self, env, *arguments):
        self.process = subprocess.Popen(
            [sys.executable, WORKER, *arguments],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._pending = b""

    def expect(self, word, timeout=60):
        """Wait for the next line and check it is ``word`` (the timeout only guards against a hung test)."""
        if not self.has_line(timeout):
            raise AssertionError("worker said nothing within %s s; stderr: %s" % (timeout, self._stderr()))
        line, self._pending = self._pending.split(b"\n", 1)
        assert line.decode() == word, "expected %r, worker said %r; stderr: %s" % (word, line, self._stderr())

    def has_line(self, timeout):
        """Whether a whole line arrives within ``timeout``; reads the pipe unbuffered so select() stays truthful."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.process.stdout], [], [], remaining)[0]:
                return False
            chunk = os.read(self.process.stdout.fileno(), 4096)
            if not chunk:
                return False
            self._pending += chunk
        return True

    def proceed(self):
        self.process.stdin.write("\n")
        self.process.stdin.flush()

    def kill(self):
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def finish(self):
        assert self.process.wait(timeout=60) == 0, self._stderr()

    def _stderr(self):
        if self.process.poll() is None:  # a hung worker: stop it to read what it said
            self.process.kill()
            self.process.wait(timeout=30)
        return self.process.stderr.read()

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            stream.close()


@pytest.fixture
def workers(store_location, store_key, child_env):
    """Start workers on the store under test; every one still running is killed at teardown."""
    started = []
    env = dict(child_env, VPP_STORE_KEY=store_key)

    def start(command, *arguments):
        worker = Worker(env, command, store_location, TOKEN, *arguments)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.close()


@pytest.fixture
def lock_log(tmp_path):
    path = tmp_path / "lock.log"
    path.touch()
    return path


def holder(workers, lock_log, name, *extra):
    worker = workers("hold-lock", str(lock_log), name, *extra)
    worker.expect("trying")
    return worker


# --- per-token lock -----------------------------------------------------------------------------------------


def test_a_second_process_waits_for_the_lock_then_gets_it(registered, workers, lock_log):
    first = holder(workers, lock_log, "A")
    first.expect("locked")
    second = holder(workers, lock_log, "B")
    # While A holds the lock B must not get it: a correct lock never prints here, whatever the machine's speed.
    assert not second.has_line(timeout=1.0)

    first.proceed()
    first.expect("released")
    second.expect("locked")
    second.proceed()
    second.expect("released")
    first.finish()
    second.finish()
    assert lock_log.read_text().split("\n")[:-1] == ["A acquired", "A released", "B acquired", "B released"]


def test_waiting_longer_than_the_timeout_raises(registered, workers, lock_log):
    first = holder(workers, lock_log, "A")
    first.expect("locked")
    expected = "locked by process %d" % first.process.pid
    with pytest.raises(LockTimeoutError, match=expected) as caught, registered.token_lock(TOKEN, timeout=0.3):
        pass
    assert "run again when it has finished" in str(caught.value)


def test_different_tokens_proceed_at_the_same_time(registered, workers, lock_log, content_token):
    registered.upsert_token("other", content_token(secret="other-secret"))
    first = holder(workers, lock_log, "A")
    first.expect("locked")
    with registered.token_lock("other", timeout=0.3):
        registered.record_assignment("other", "1", "STDQ", "user", "u1")
    assert registered.count_assignments("other") == 1


def test_the_lock_of_a_killed_process_is_taken_over_at_once(registered, workers, lock_log):
    first = holder(workers, lock_log, "A")
    first.expect("locked")
    first.kill()
    # The lease is an hour: only the dead-owner check can grant this within the timeout.
    with registered.token_lock(TOKEN, timeout=5):
        pass


# Lock rows with leases are SQLite's; PostgreSQL's advisory locks end with their session (test_postgres_store.py).
@pytest.mark.parametrize("store_backend", ["sqlite"])
def test_an_expired_lease_is_taken_over_and_its_old_owner_cannot_release_it(registered, workers, lock_log, make_store):
    first = holder(workers, lock_log, "A", "0.5")
    first.expect("locked")
    with registered.token_lock(TOKEN, timeout=60):
        first.proceed()
        first.expect("released")
        # A's release must not have freed our lock: another store object still finds it held.
        with pytest.raises(LockTimeoutError), make_store().token_lock(TOKEN, timeout=0.2):
            pass
    first.finish()


# --- crashes in the middle of bulk writes ------------------------------------------------------------------


@pytest.fixture
def previous_state(registered):
    """A token with a consistent earlier sync: assets, assignments, users, audit."""
    registered.replace_assets(TOKEN, [{"adam_id": "1", "total_count": 500, "assigned_count": PREVIOUS_ASSIGNMENTS}])
    snapshot = registered.begin_assignment_snapshot(TOKEN)
    snapshot.add_rows(
        {"adam_id": "1", "target_kind": "user", "target_id": "u%03d" % index} for index in range(PREVIOUS_ASSIGNMENTS)
    )
    snapshot.finish(version_id="v1")
    registered.apply_user_delta(TOKEN, [{"client_user_id": "u000", "status": "Associated"}])
    registered.upsert_application("pages", token=TOKEN, adam_id="1")
    registered.upsert_deployment("bulk", application="pages", collection_name="all", collection_type="user",
                                 action="install", purpose="required")  # fmt: skip
    registered.upsert_members("bulk", ({"member_id": "m%02d" % i, "state": "pending"} for i in range(PREVIOUS_MEMBERS)))
    return registered


def assert_previous_state_intact(store_backend, store_location, make_store):
    if store_backend == "sqlite":
        with sqlite3.connect(store_location) as raw:
            assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    reopened = make_store()
    assert reopened.count_assignments(TOKEN) == PREVIOUS_ASSIGNMENTS
    assert reopened.get_token(TOKEN)["assignments_version"] == "v1"
    assert reopened.count_users(TOKEN) == 1
    assert reopened.count_members("bulk")["pending"] == PREVIOUS_MEMBERS
    assert sum(reopened.count_members("bulk").values()) == PREVIOUS_MEMBERS
    audit_size = sum(1 for _row in reopened.iter_audit(token=TOKEN))
    # the store takes writes again at once: nobody holds a write lock any more
    assert reopened.record_assignment(TOKEN, "1", "STDQ", "user", "after-crash") is True
    assert sum(1 for _row in reopened.iter_audit(token=TOKEN)) == audit_size + 1
    return reopened


@pytest.mark.parametrize("command", ["bulk-delta", "bulk-snapshot", "bulk-members"])
def test_a_process_killed_in_a_bulk_write_leaves_the_previous_state(
    previous_state, workers, command, store_backend, store_location, make_store
):
    worker = workers(command, "200000", "50000")
    worker.expect("midway")
    worker.kill()

    reopened = assert_previous_state_intact(store_backend, store_location, make_store)
    # the next full sync starts clean: the interrupted run's staged rows are not counted in
    snapshot = reopened.begin_assignment_snapshot(TOKEN)
    snapshot.add_rows({"adam_id": "1", "target_kind": "user", "target_id": "u%03d" % i} for i in range(50))
    assert snapshot.finish() == {"added": 0, "removed": 51}
