# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the reliability tests (faults, crashes, concurrency, restore, bad input, secrets, TLS).

They compare the store with Apple (the simulator), take "nothing changed" snapshots of both, and start
``ansible-playbook`` runs in the background so that a test can act (kill, start a second run) at the moment the
simulator's request log shows.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import yaml

from ansible_collections.mdm.vpp.plugins.module_utils.client import VPPClient
from ansible_collections.mdm.vpp.plugins.module_utils.stoken import parse_content_token
from ansible_collections.mdm.vpp.plugins.module_utils.sync import SyncOptions, sync_tokens
from ansible_collections.mdm.vpp.plugins.module_utils.tokens import manager_identity, reported_fields
from tests.integration.conftest import ANSIBLE_BIN, Ansible, PlaybookRun
from tests.integration.token_helpers import opened_store
from tests.sync_helpers import API_PREFIX, apple_assignments, store_assignments

POLL_INTERVAL = 0.02  # how often a test looks at the request log while waiting for its moment to act
WAIT_LIMIT = 120.0  # a moment that never comes fails the test instead of hanging it


# --- tasks ------------------------------------------------------------------------------------------------------


def token_file(sim, location):
    return os.path.join(sim.tokens_dir, location + ".vpptoken")


def register(name, sim, location, task_name=None, **options):
    """A ``vpp_token`` task registering ``location``'s token file under ``name``."""
    options = dict(options, name=name, token_file=token_file(sim, location))
    return {"name": task_name or "register %s" % name, "mdm.vpp.vpp_token": options}


def sync(task_name="sync", ignore_errors=False, **options):
    task = {"name": task_name, "mdm.vpp.vpp_sync": options}
    if ignore_errors:
        task["ignore_errors"] = True
    return task


def sqlite_runner(tmp_path, collections_path, sim):
    """An ``Ansible`` runner on a SQLite store file, whatever backend the suite runs on: these tests read the
    file itself (bytes, modes, rows, lock rows)."""
    return Ansible(tmp_path, collections_path, sim.url, store=Path(tmp_path) / "store" / "vpp.db")


def seed(runner, sim, tokens, applications=None):
    """Register and claim ``tokens`` ({name: location}), sync them in full and create ``applications``
    ({name: (token, adam_id)}) with the collection's own code, without a play: the starting point of a test.

    Real HTTP to the simulator and the real store; only ansible-playbook is left out, to keep the tests quick.
    """
    with opened_store(runner) as store:

        def client_for(secret):
            return VPPClient(sim.url, secret, manager_id=store.manager_id)

        for name, location in tokens.items():
            content = parse_content_token(sim.tokens[location])
            with client_for(content.secret) as client:
                facts = reported_fields(client.client_config(), store.manager_id)
                client.set_client_config(mdm_info=manager_identity(store.manager_id))
            facts.update(claimed=True, status="active")
            store.upsert_token(name, content, **facts)
        outcome = sync_tokens(store, list(tokens), client_for, SyncOptions())
        assert [token["status"] for token in outcome["tokens"]] == ["ok"] * len(tokens), outcome
        for app_name, (token, adam_id) in (applications or {}).items():
            store.upsert_application(app_name, token=token, adam_id=adam_id)


def played(runner, tasks, **options):
    """Run ``tasks`` as one play that must succeed."""
    run = runner.play(tasks, **options)
    assert run.rc == 0, run.stdout + run.stderr
    return run


# --- what Apple and the store hold -------------------------------------------------------------------------------


def store_matches_apple(runner, sim, token, location):
    """Whether the store's assignments of ``token`` are exactly Apple's (the simulator's) for ``location``."""
    with opened_store(runner) as store:
        return store_assignments(store, token) == apple_assignments(sim, location)


def apple_state(sim):
    """A snapshot of every location at the simulator (assets and counts, assignments, users, mdmInfo, events)."""
    return {key: sim.location_state(key) for key in sorted(sim.tokens)}


def api_requests(sim, method=None, path=None, location=None):
    """Requests to Apple's API (not the test hooks, not the metadata lookup) the simulator answered or dropped,
    in the order they arrived (the log is written when an answer ends; a hung request is logged late)."""
    entries = [
        entry
        for entry in sim.request_log(location)
        if entry["path"].startswith(API_PREFIX + "/")
        and (method is None or entry["method"] == method)
        and (path is None or entry["path"] == API_PREFIX + path)
    ]
    return sorted(entries, key=lambda entry: entry["time"])


def writes(sim, location=None):
    """Every write call Apple received (POSTs under the API)."""
    return api_requests(sim, method="POST", location=location)


def wait_for(condition, what):
    """Poll ``condition()`` until it is true (the moment to act), failing the test after ``WAIT_LIMIT`` seconds."""
    deadline = time.monotonic() + WAIT_LIMIT
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < deadline, "gave up waiting for %s" % what
        time.sleep(POLL_INTERVAL)


# --- plays in the background ----------------------------------------------------------------------------------


def _processes():
    """``{pid: (state, parent pid)}`` of every process, from /proc."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, encoding="ascii", errors="replace") as handle:
                # "pid (comm) state ppid ...": comm may hold spaces, so split after its closing parenthesis
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[int(entry)] = (fields[0], int(fields[1]))
    return found


def _live_pids():
    return {pid for pid, (state, _parent) in _processes().items() if state != "Z"}


class BackgroundPlay:
    """An ``ansible-playbook`` run in the background: ``finish()`` waits for it, ``kill()`` kills -9 its tree.

    ansible-playbook runs each task in a worker process that starts its own session, and the worker runs the
    module in a child process: the tree is found through parent pids, not through a process group.
    """

    def __init__(self, runner, tasks, label):
        runner.runs += 1
        self.workdir = runner.workdir
        playbook = runner.workdir / ("play-%d-%s.yml" % (runner.runs, label))
        playbook.write_text(yaml.safe_dump([{"name": label, "hosts": "localhost", "gather_facts": False,
                                             "tasks": tasks}], sort_keys=False))  # fmt: skip
        self.results_file = runner.workdir / ("results-%d-%s.jsonl" % (runner.runs, label))
        env = dict(runner.env, VPP_TEST_RESULTS=str(self.results_file))
        command = [str(ANSIBLE_BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook)]
        self.process = subprocess.Popen(
            command, env=env, cwd=runner.workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def tree(self):
        """Pids of ansible-playbook and every live descendant (its worker, the module process and so on)."""
        children = {}
        for pid, (state, parent) in _processes().items():
            if state != "Z":
                children.setdefault(parent, []).append(pid)
        pids, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            todo.extend(children.get(pid, ()))
        return pids

    def kill(self):
        """``kill -9`` the whole tree at once, as a crash or an OOM kill of the job would end it."""
        pids = self.tree()
        assert len(pids) >= 3, "expected ansible-playbook, its worker and the module to be running: %s" % pids
        for pid in reversed(pids):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.communicate(timeout=30)
        wait_for(lambda: not set(pids) & _live_pids(), "the killed play's processes to be gone")
        return pids

    def finish(self, timeout=300):
        """Wait for the play to end; its PlaybookRun."""
        stdout, stderr = self.process.communicate(timeout=timeout)
        results = []
        if self.results_file.exists():
            results = [json.loads(line) for line in self.results_file.read_text().splitlines() if line.strip()]
        return PlaybookRun(self.process.returncode, stdout, stderr, results)
