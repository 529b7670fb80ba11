# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection as a user gets it: the built tarball installed with ``ansible-galaxy collection install``.

Every other integration test runs the checkout itself (a symbolic link under ``ansible_collections``) with the
development virtual environment. Here a clean virtual environment holds only ansible-core (the version of
requirements-dev.txt) and the collection's requirements.txt; its ansible-galaxy builds the tarball and installs it,
and its ansible-playbook, with its python as the modules' interpreter, registers a token, synchronises it (with the
role) and lists the apps from that installed copy. A file the tarball leaves out (build_ignore in galaxy.yml) or a
runtime requirement missing from requirements.txt fails here.

The clean environment is kept in ``.venv-installed`` and rebuilt only when what it is made of changes (the
requirements, the ansible-core pin, the Python version), so a warm run costs seconds.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import tests.integration.conftest as harness
from tests.conftest import REPO_ROOT
from tests.integration.app_helpers import KEYNOTE, LOCATIONS, PAGES

REPO = Path(REPO_ROOT)
CLEAN_VENV = REPO / ".venv-installed"
HQ_TOKEN = "hq"


def clean_requirements():
    """What the clean environment is made of: ansible-core as requirements-dev.txt pins it, then requirements.txt."""
    dev = (REPO / "requirements-dev.txt").read_text().splitlines()
    core = [line.strip() for line in dev if line.strip().startswith("ansible-core==")]
    assert core, "requirements-dev.txt pins no ansible-core=="
    return core + [(REPO / "requirements.txt").read_text()]


def clean_venv_key(requirements):
    """The cache key of the clean environment: its requirements and the Python that builds it."""
    text = "\n".join(requirements) + "\npython %d.%d" % sys.version_info[:2]
    return hashlib.sha256(text.encode()).hexdigest()


def run(command, **kwargs):
    """Run ``command``; fail the test with its output when it fails."""
    proc = subprocess.run([str(part) for part in command], capture_output=True, text=True, check=False, **kwargs)
    assert proc.returncode == 0, "%s failed:\n%s%s" % (" ".join(map(str, command)), proc.stdout, proc.stderr)
    return proc


def prepared_clean_venv():
    """``.venv-installed`` as clean_requirements() describe it, (re)built only when its key changed."""
    requirements = clean_requirements()
    key = clean_venv_key(requirements)
    stamp = CLEAN_VENV / ".requirements-key"
    with open(str(CLEAN_VENV) + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time: pytest workers, other checkouts' runs
        if stamp.exists() and stamp.read_text() == key and (CLEAN_VENV / "bin" / "ansible-playbook").exists():
            return CLEAN_VENV
        shutil.rmtree(CLEAN_VENV, ignore_errors=True)
        # the base interpreter, not this development environment: nothing of .venv is visible in the clean one
        run([sys.executable, "-m", "venv", CLEAN_VENV])
        listed = CLEAN_VENV / "requirements.txt"
        listed.write_text("\n".join(requirements) + "\n")
        run([CLEAN_VENV / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r",
             listed])  # fmt: skip
        stamp.write_text(key)
    return CLEAN_VENV


@pytest.fixture
def installed(tmp_path):
    """Build the tarball and install it with the clean environment: (venv bin dir, collections path, tarball)."""
    bin_dir = prepared_clean_venv() / "bin"
    work = tmp_path / "tarball"
    version = yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]
    run([bin_dir / "ansible-galaxy", "collection", "build", "--output-path", work / "dist", REPO])
    tarball = work / "dist" / ("mdm-vpp-%s.tar.gz" % version)
    assert tarball.is_file(), sorted(os.listdir(work / "dist"))
    collections = work / "installed"
    run([bin_dir / "ansible-galaxy", "collection", "install", tarball, "-p", collections])
    return bin_dir, collections, tarball


@pytest.fixture
def clean_ansible(tmp_path, installed, simulator, monkeypatch):
    """An Ansible runner with the clean environment's ansible-playbook, python and the installed collection only."""
    bin_dir, collections, _tarball = installed
    monkeypatch.setattr(harness, "ANSIBLE_BIN", bin_dir)  # the harness runs ANSIBLE_BIN/ansible-playbook
    runner = harness.Ansible(tmp_path / "plays", collections, simulator.url)
    runner.workdir.mkdir()
    runner.env["ANSIBLE_PYTHON_INTERPRETER"] = str(bin_dir / "python")
    runner.env.pop("PYTHONPATH", None)
    return runner


def assert_is_the_tarball(bin_dir, collections, tarball, env):
    """The installed copy is the tarball's files, the modules resolve to it, and it ships no development clutter."""
    installed_root = collections / "ansible_collections" / "mdm" / "vpp"
    assert not installed_root.is_symlink() and (installed_root / "FILES.json").is_file()
    manifest = json.loads((installed_root / "MANIFEST.json").read_text())["collection_info"]
    assert manifest["version"] == yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]
    doc = json.loads(run([bin_dir / "ansible-doc", "--json", "mdm.vpp.vpp_sync"], env=env).stdout)
    assert Path(doc["mdm.vpp.vpp_sync"]["doc"]["filename"]).resolve().is_relative_to(installed_root.resolve())
    names = run(["tar", "tzf", tarball]).stdout.split()
    parts = {part for name in names for part in name.split("/")}
    assert not parts & {".venv", ".venv-sanity", ".venv-galaxy", ".venv-installed", "__pycache__", ".pytest_cache",
                        ".ruff_cache", ".git", ".ci"}  # fmt: skip
    assert not [name for name in names if name.startswith(("run/", "dist/", "tests/output/")) or name.endswith(".pyc")]


def test_the_installed_tarball_registers_a_token_syncs_and_lists_the_apps(installed, clean_ansible, simulator):
    assert_is_the_tarball(*installed, env=clean_ansible.env)
    token_file = os.path.join(simulator.tokens_dir, LOCATIONS[HQ_TOKEN] + ".vpptoken")
    run_ = clean_ansible.play(
        [
            {"name": "interpreter", "ansible.builtin.setup": {"gather_subset": ["!all", "!min", "python"]}},
            {"name": "register", "mdm.vpp.vpp_token": {"name": HQ_TOKEN, "token_file": token_file}},
            {"name": "sync role", "ansible.builtin.include_role": {"name": "mdm.vpp.vpp_sync"}},
            {"name": "list apps", "mdm.vpp.vpp_app_info": {"tokens": [HQ_TOKEN]}},
        ]
    )
    assert run_.rc == 0, run_.stdout + run_.stderr
    python = run_.result("interpreter")["ansible_facts"]["ansible_python"]["executable"]
    assert Path(python).parent == Path(clean_ansible.env["ANSIBLE_PYTHON_INTERPRETER"]).parent
    registered = run_.result("register")
    assert registered["changed"] and "register" in registered["actions"]
    synced = run_.result("Synchronise the tokens with Apple (auto)")
    assert [(token["name"], token["status"]) for token in synced["tokens"]] == [(HQ_TOKEN, "ok")]
    apps = {(app["adam_id"], app["pricing_param"]): app for app in run_.result("list apps")["apps"]}
    assert (apps[(PAGES, "STDQ")]["name"], apps[(PAGES, "STDQ")]["total"]) == ("Pages", 50)
    assert (apps[(PAGES, "STDQ")]["assigned"], apps[(KEYNOTE, "STDQ")]["total"]) == (2, 3)
    assert {app["token"] for app in apps.values()} == {HQ_TOKEN}
