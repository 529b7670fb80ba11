# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A real ``ansible-rulebook`` of one of the collection's rulebooks, from ``.venv-eda`` (``tools/eda.sh``), its
output in a file: what the end-to-end tests of ``tests/eda`` start."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
EDA_VENV = Path(os.environ.get("VPP_EDA_VENV", REPO / ".venv-eda"))
START_TIMEOUT = 90  # seconds for ansible-rulebook (a JVM, the source) to listen


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout, describe):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "not within %d s: %s" % (timeout, describe())
        time.sleep(0.5)


class Rulebook:
    """``ansible-rulebook -r <rulebook>`` with ``variables`` (its --vars file) in ``env``, run from the collection's
    root (as the rulebooks' default playbook paths expect), the rule's playbooks run by .venv-eda's python."""

    def __init__(self, rulebook, workdir, collections_path, env, variables):
        if not (EDA_VENV / "bin" / "ansible-rulebook").exists():
            pytest.fail("no ansible-rulebook in %s: run tools/eda.sh first (make eda does)" % EDA_VENV)
        self.workdir = Path(workdir)
        self.log_path = self.workdir / ("ansible-rulebook-%s.log" % Path(rulebook).stem)
        inventory = self.workdir / "inventory.ini"
        # the rule's playbook runs its modules with .venv-eda's python (tools/eda.sh installs requirements.txt)
        inventory.write_text("localhost ansible_connection=local ansible_python_interpreter=%s\n"
                             % (EDA_VENV / "bin" / "python"))  # fmt: skip
        variables_file = self.workdir / ("%s-vars.yml" % Path(rulebook).stem)
        variables_file.write_text(yaml.safe_dump(variables))
        self.env = dict(env, PATH="%s%s%s" % (EDA_VENV / "bin", os.pathsep, env.get("PATH", "")))
        self.env["ANSIBLE_COLLECTIONS_PATH"] = str(collections_path)
        self.env.pop("ANSIBLE_CALLBACKS_ENABLED", None)  # the integration harness's result log is not needed here
        self.command = [str(EDA_VENV / "bin" / "ansible-rulebook"), "-r", rulebook, "-i", str(inventory),
                        "--vars", str(variables_file), "-v"]  # fmt: skip
        self.cwd = Path(collections_path) / "ansible_collections" / "mdm" / "vpp"
        self.proc = None

    def start(self, port=None):
        """Start; with ``port``, return once the source listens on it."""
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(self.command, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)  # fmt: skip
        if port is None:
            return self
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            self.check_running()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.2)
        message = "ansible-rulebook did not listen on %d in %d s:\n%s" % (port, START_TIMEOUT, self.output())
        raise AssertionError(message)

    def check_running(self):
        assert self.proc.poll() is None, "ansible-rulebook exited %s:\n%s" % (self.proc.returncode, self.output())

    def output(self):
        return self.log_path.read_text(errors="replace")[-6000:]

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)
