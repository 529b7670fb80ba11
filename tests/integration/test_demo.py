# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``make demo`` end to end, as a newcomer runs it: simulator, playbooks/demo.yml, license table, report, cleanup.

It runs in a private run directory on a free port, so that it never meets a simulator someone started by hand.
The virtual environment step is skipped (``-o``): the tests already run inside it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from ansible_collections.mdm.vpp.plugins.module_utils.store import open_store

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_make_demo(run_dir, *variables):
    """``make demo`` with its run directory in ``run_dir``, a free port and this interpreter's virtual environment."""
    command = ["make", "--no-print-directory", "demo", "-o", ".venv/.requirements-stamp"]
    command += ["RUN_DIR=%s" % run_dir, "SIM_PORT=0", "BIN=%s" % Path(sys.executable).parent, *variables]
    env = {name: value for name, value in os.environ.items() if not name.startswith(("VPP_", "ANSIBLE_"))}
    return subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)


def table_row(stdout, name, token):
    """The cells of the license table's line for an app of a token (the table ``make demo`` prints last)."""
    table = stdout.split("License table (")[1]
    pattern = re.compile(r"^%s(?: !)?\s+%s\s" % (re.escape(name), re.escape(token)), re.MULTILINE)
    line = table[pattern.search(table).start() :].splitlines()[0]
    return line[len(name) :].split()


def test_make_demo_runs_every_step_prints_the_table_and_the_report_and_stops_the_simulator(tmp_path):
    run_dir = tmp_path / "run"
    demo = run_make_demo(run_dir)
    assert demo.returncode == 0, demo.stdout[-4000:] + demo.stderr[-2000:]

    # every step of the play ran
    for step in (
        "Onboard both demo tokens",
        "Synchronise both tokens in full",
        "List the apps and books",
        "Deploy to device collections and to a user collection",
        "Reclaim the Pages license of a Mac that left the design team",
        "Write the license report",
    ):
        assert "TASK [%s" % step in demo.stdout
    assert "failed=0" in demo.stdout

    # the license table, with the counts after the deployments and the reclaim
    assert table_row(demo.stdout, "Logic Pro", "acme-hq") == [
        "!",
        "acme-hq",
        "business",
        "4",
        "4",
        "0",
        "4",
        "0",
        "100.0%",
    ]
    assert table_row(demo.stdout, "Field Notes Pro", "acme-hq")[2:6] == ["15", "2", "13", "2"]
    # 2 assigned before + 3 deployed - 1 reclaimed; of the 3 deployed, the reclaimed Mac no longer counts
    assert table_row(demo.stdout, "Pages", "acme-hq")[2:6] == ["120", "4", "116", "2"]
    assert table_row(demo.stdout, "Swift Playgrounds", "springfield-elementary")[2:6] == ["150", "2", "148", "2"]
    assert "21 apps, 4 books, 2 tokens;" in demo.stdout
    # the listing says what it lists: 14 + 11 entries, Pages under each of the two locations that bought it
    listed = re.search(r"\"msg\": \"(25 apps and books: .*)\"", demo.stdout)
    assert listed, demo.stdout[-4000:]
    per_token = dict(re.findall(r"([a-z-]+) (\d+) \(", listed.group(1)))
    assert per_token == {"acme-hq": "14", "springfield-elementary": "11"}
    assert listed.group(1).count("Pages") == 2

    # the report's path, and its files
    report = run_dir / "report" / "vpp-licenses.html"
    assert "Report: %s (open it in a browser" % report in demo.stdout
    assert "<svg" in report.read_text()
    rows = list(csv.DictReader(io.StringIO((run_dir / "report" / "vpp-licenses.csv").read_text())))
    assert len(rows) == 25
    alerts = json.loads((run_dir / "report" / "vpp-licenses.json").read_text())["alerts"]
    assert [(alert["kind"], alert["token"]) for alert in alerts] == [
        ("token", "springfield-elementary"),
        ("low_licenses", "acme-hq"),
    ]

    # the private store holds the demo's deployments, the install ones and the uninstall one
    store = open_store(str(run_dir / "store" / "vpp.db"))
    try:
        deployments = {row["name"]: row["action"] for row in store.list_deployments()}
    finally:
        store.close()
    assert deployments == {
        "pages-design-macs": "install",
        "field-notes-field-ipads": "install",
        "logic-pro-studio-macs": "install",
        "playgrounds-teachers": "install",
        "pages-returned-macs": "uninstall",
    }

    # and the simulator is gone
    assert demo.stdout.rstrip().endswith("simulator stopped")
    assert not (run_dir / "simulator.pid").exists()


def test_make_demo_stops_the_simulator_when_the_play_fails(tmp_path):
    run_dir = tmp_path / "run"
    # a scenario without the demo's locations: onboarding finds no token file and the play fails
    failed = run_make_demo(run_dir, "DEMO_SCENARIO=tests/simulator/scenarios/small.yml")
    assert failed.returncode != 0
    assert "failed=1" in failed.stdout
    assert "simulator stopped" in failed.stdout
    assert not (run_dir / "simulator.pid").exists()
    assert not (run_dir / "report").exists()
