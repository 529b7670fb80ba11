# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""No secret anywhere: a whole workflow, failures included, run with ``-vvv --diff`` and an Ansible log file, then
every module result, diff, line of output and of the log, exception and byte of the store searched for the content
tokens (the whole Base64 text and the inner ``token`` value), the store key and the notification secrets (one
given, one generated). Store files are private."""

from __future__ import annotations

import base64
import json
import stat

import pytest

from tests.integration.deployment_helpers import HQ, PAGES
from tests.integration.notification_helpers import NotificationReceiver
from tests.integration.reliability_helpers import sqlite_runner, token_file
from tests.integration.token_helpers import opened_store
from tests.simulator.testing import small_scenario

SCHOOL = "school-east"
STORE_KEY = "correct horse battery staple of the integration tests"
NOTIFICATION_SECRET = "notification secret of the integration tests 5d1e"


def inner_token(stoken):
    """The ``token`` value inside a content token (Base64 of JSON)."""
    return json.loads(base64.b64decode(stoken))["token"]


def revoke_at_apple(sim, location):
    """A task that makes Apple revoke a location's token in the middle of the play (the simulator's hook)."""
    return {"name": "apple revokes %s" % location, "ansible.builtin.uri": {
        "url": sim.root_url + "/_sim/token/revoke", "method": "POST", "body_format": "json",
        "body": {"location": location}}}  # fmt: skip


def task(title, module, ignore_errors=False, **options):
    entry = {"name": title, "mdm.vpp." + module: options}
    if ignore_errors:
        entry["ignore_errors"] = True
    return entry


def workflow(sim, receiver):
    """Every module, in a realistic order, with the failures an administrator meets."""
    staff = [{"client_user_id": "new-1", "email": "new1@example.org"}, "u-1"]
    return [
        task("register hq", "vpp_token", name="hq", token=sim.tokens[HQ], description="HQ"),
        task("register school", "vpp_token", name="school", token_file=token_file(sim, SCHOOL)),
        task("describe hq", "vpp_token", name="hq", token=sim.tokens[HQ], description="Headquarters"),
        task("notifications of hq", "vpp_token", name="hq", notification_url=receiver.url("apple", "hq"),
             notification_auth_token=NOTIFICATION_SECRET),
        task("notifications of school", "vpp_token", name="school", notification_url=receiver.url("apple", "school")),
        task("notifications refused", "vpp_token", ignore_errors=True, name="school",
             notification_url=receiver.url("fail", "school"), notification_auth_token=NOTIFICATION_SECRET + "-2"),
        task("sync", "vpp_sync"),
        task("app", "vpp_app", token="hq", adam_id=PAGES, name="pages"),
        task("deploy to devices", "vpp_deployment", name="ipads", application="pages",
             collection={"name": "ipads", "type": "device", "members": ["SN-X1", "SN-X2"]}),
        task("deploy to users", "vpp_deployment", name="staff", application="pages",
             collection={"name": "staff", "type": "user", "members": staff}),
        task("too many", "vpp_deployment", ignore_errors=True, name="big", application="pages",
             collection={"name": "big", "type": "device", "members": ["SN-Y%d" % i for i in range(60)]}),
        task("deployments", "vpp_deployment_info", members=True),
        revoke_at_apple(sim, SCHOOL),
        task("sync after a revocation", "vpp_sync", ignore_errors=True),
        task("apps refreshed", "vpp_app_info", refresh=True),
        task("tokens checked at apple", "vpp_token_info", check=True),
        task("register a revoked token", "vpp_token", ignore_errors=True, name="school-2",
             token_file=token_file(sim, SCHOOL)),
        task("wrong store key", "vpp_token_info", ignore_errors=True, store_key="not the key"),
        task("delete hq and revoke its licenses", "vpp_token", name="hq", state="absent", revoke_on_delete=True,
             force=True),
    ]  # fmt: skip


@pytest.fixture
def sim(simulator_factory):
    scenario = small_scenario(event_delay=0.01)
    scenario["limits"] = {"maxRequestPerSecond": 100}
    return simulator_factory(scenario)


def store_files(runner):
    """The store's directory and the files in it (database, write-ahead log, key file)."""
    directory = runner.store.parent
    return directory, sorted(directory.iterdir())


def test_a_whole_workflow_with_failures_leaks_no_secret_anywhere(tmp_path, collections_path, sim, monkeypatch):
    runner = sqlite_runner(tmp_path, collections_path, sim)
    log_file = tmp_path / "ansible.log"
    secrets = {STORE_KEY, NOTIFICATION_SECRET, NOTIFICATION_SECRET + "-2"}
    for location in (HQ, SCHOOL):
        secrets |= {sim.tokens[location], inner_token(sim.tokens[location])}
    (tmp_path / "tls").mkdir()
    monkeypatch.setenv("VPP_STORE_KEY", STORE_KEY)  # the receiver opens the store as the plays do
    receiver = NotificationReceiver(runner.store, tmp_path / "tls")
    sim.configure(notification_ca_file=str(receiver.ca_file))
    try:
        run = runner.play(workflow(sim, receiver), diff=True, verbosity=3,
                          env={"VPP_STORE_KEY": STORE_KEY, "ANSIBLE_LOG_PATH": str(log_file)})  # fmt: skip
    finally:
        receiver.close()
    assert run.rc == 0, run.stdout + run.stderr  # the expected failures carry ignore_errors
    statuses = {entry["task"]: entry["status"] for entry in run.results}
    for failed in ("too many", "sync after a revocation", "register a revoked token", "wrong store key",
                   "notifications refused"):  # fmt: skip
        assert statuses[failed] == "failed", failed
    assert receiver.tests() == [("/apple/hq", 200), ("/apple/school", 200), ("/fail/school", 500)]
    with opened_store(runner) as store:
        secrets.add(store.get_notification_secret("school"))  # the generated one
    assert run.result("deploy to users")["registered_users"] == ["new-1"]
    assert run.result("delete hq and revoke its licenses")["revoked"]["licenses"] > 0

    texts = {"results": json.dumps(run.results), "stdout": run.stdout, "stderr": run.stderr,
             "ansible log": log_file.read_text()}  # fmt: skip
    _directory, files = store_files(runner)
    texts.update((path.name, path.read_bytes().decode("latin-1")) for path in files)
    assert "ESTABLISH LOCAL CONNECTION" in run.stdout and '"diff"' in texts["results"]  # verbose, with diffs
    leaks = [(where, secret[:6] + "...") for where, text in texts.items() for secret in secrets if secret in text]
    assert leaks == []


def test_store_files_are_private(tmp_path, collections_path, sim):
    runner = sqlite_runner(tmp_path, collections_path, sim)
    run = runner.play([task("register hq", "vpp_token", name="hq", token=sim.tokens[HQ]), task("sync", "vpp_sync")])
    assert run.rc == 0, run.stdout
    directory, files = store_files(runner)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert {path.name for path in files} >= {"vpp.db", "vpp.db.key"}
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
