# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX readiness: playbooks/sync.yml run the way AWX runs a job template: through ansible-runner, with the
"mdm.vpp store" credential (extensions/awx/credential_type.yml) injected as environment variables."""

from __future__ import annotations

import os
from pathlib import Path

import ansible_runner
import jinja2
import yaml

from ansible_collections.mdm.vpp.plugins.module_utils.store import open_store
from tests.integration.conftest import ANSIBLE_BIN
from tests.integration.test_vpp_sync import LOCATIONS, apple_picture, register_tasks
from tests.sync_helpers import store_assignments

REPO_ROOT = Path(__file__).resolve().parents[2]
CREDENTIAL_TYPE = REPO_ROOT / "extensions" / "awx" / "credential_type.yml"
STORE_KEY = "the AWX credential's store key"


def injected_environment(inputs):
    """What AWX puts into a job's environment for a credential of our type: its env injectors, rendered."""
    credential_type = yaml.safe_load(CREDENTIAL_TYPE.read_text())
    templates = credential_type["injectors"]["env"]
    return {name: jinja2.Template(template).render(**inputs) for name, template in templates.items()}


def test_the_credential_type_asks_for_both_secrets_and_injects_them():
    credential_type = yaml.safe_load(CREDENTIAL_TYPE.read_text())
    fields = {field["id"]: field for field in credential_type["inputs"]["fields"]}
    assert set(fields) == set(credential_type["inputs"]["required"]) == {"store_dsn", "store_key"}
    assert all(field["secret"] for field in fields.values())
    assert injected_environment({"store_dsn": "postgresql://u:p@db/vpp", "store_key": "k"}) == {
        "VPP_STORE": "postgresql://u:p@db/vpp",
        "VPP_STORE_KEY": "k",
    }


def test_sync_playbook_through_ansible_runner_with_the_credential(ansible, simulator, collections_path, tmp_path):
    registered = ansible.play(register_tasks(simulator), env={"VPP_STORE_KEY": STORE_KEY})
    assert registered.rc == 0, registered.stdout
    environment = injected_environment({"store_dsn": str(ansible.store), "store_key": STORE_KEY})
    (tmp_path / "awx-job").mkdir()

    job = ansible_runner.run(
        private_data_dir=str(tmp_path / "awx-job"),
        project_dir=str(REPO_ROOT),
        playbook="playbooks/sync.yml",
        envvars=dict(environment, VPP_API_URL=simulator.url, ANSIBLE_COLLECTIONS_PATH=str(collections_path),
                     ANSIBLE_HOME=str(tmp_path / "ansible-home"), ANSIBLE_LOCALHOST_WARNING="False",
                     PATH=os.pathsep.join((str(ANSIBLE_BIN), os.environ["PATH"]))),
        extravars={"vpp_sync_mode": "full"},
        quiet=True,
    )  # fmt: skip

    output = job.stdout.read()
    assert (job.status, job.rc) == ("successful", 0), output
    [sync] = [
        event["event_data"]["res"]
        for event in job.events
        if event["event"] == "runner_on_ok" and event["event_data"].get("task_action") == "mdm.vpp.vpp_sync"
    ]
    assert sync["changed"] is True
    assert sorted(token["name"] for token in sync["tokens"]) == sorted(LOCATIONS)
    assert {token["mode"] for token in sync["tokens"]} == {"full"}
    assert STORE_KEY not in output
    with open_store(str(ansible.store), key=STORE_KEY) as store:
        for name, location in LOCATIONS.items():
            assert store_assignments(store, name) == apple_picture(simulator, location)[1]
            assert store.get_token(name)["last_full_sync_at"] is not None
