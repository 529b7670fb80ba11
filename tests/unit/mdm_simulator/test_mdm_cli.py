# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``python -m tests.mdm_simulator`` serves in the foreground and stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import requests

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def test_cli_port_file_and_sigterm(tmp_path):
    port_file = tmp_path / "port"
    scenario = os.path.join(REPO, "tests", "mdm_simulator", "scenarios", "small.yml")
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.mdm_simulator", "--flavor", "nanomdm", "--scenario", scenario, "--port", "0",
         "--port-file", str(port_file)], cwd=REPO, stdout=subprocess.PIPE)  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while not (port_file.exists() and port_file.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.05)
        port = int(port_file.read_text())
        health = requests.get("http://127.0.0.1:%d/_mdm/health" % port, timeout=5).json()
        assert health["ok"] is True and health["flavor"] == "nanomdm"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert not port_file.exists()
    finally:
        if process.poll() is None:
            process.kill()
