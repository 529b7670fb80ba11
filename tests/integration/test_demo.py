# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``make demo`` end to end, as a newcomer runs it: the Apple simulator, the NanoMDM stand-in and the event source
(``tools/vpp_events_run.py``), playbooks/demo.yml (licenses, then an install through the MDM, the devices' answers,
the removal and the reclaim), the license table, the report, and every process stopped.

It runs in a private run directory on free ports, so that it never meets a simulator someone started by hand.
The virtual environment step is skipped (``-o``): the tests already run inside it.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from ansible_collections.mdm.vpp.plugins.module_utils.store import open_store

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_make_demo(run_dir, *variables):
    """``make demo`` with its run directory in ``run_dir``, a free port and this interpreter's virtual environment."""
    command = ["make", "--no-print-directory", "demo", "-o", ".venv/.requirements-stamp"]
    command += ["RUN_DIR=%s" % run_dir, "SIM_PORT=0", "BIN=%s" % Path(sys.executable).parent, *variables]
    env = {name: value for name, value in os.environ.items() if not name.startswith(("VPP_", "ANSIBLE_"))}
    return subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)


def message(stdout, task):
    """The ``msg`` the debug task ``task`` printed (the first after its TASK line)."""
    after = stdout.split("TASK [%s]" % task, 1)[1]
    found = re.search(r'"msg": "(.*)"', after)
    assert found, after[:2000]
    return found.group(1)


def listening(url):
    """Whether something accepts connections at the host and port of ``url``."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=2):
            return True
    except OSError:
        return False


def started_urls(stdout):
    """The URLs make demo printed for the Apple simulator, the event source and the MDM stand-in."""
    return {name: re.search(r"^%s=(\S+)$" % name, stdout, re.MULTILINE).group(1)
            for name in ("URL", "EVENTS_URL", "MDM_URL")}  # fmt: skip


def assert_everything_stopped(stdout, run_dir):
    for name in ("MDM stand-in stopped", "event source stopped", "simulator stopped"):
        assert name in stdout
    for pid_file in ("simulator.pid", "mdm.pid", "events.pid"):
        assert not (run_dir / pid_file).exists()
    for name, url in started_urls(stdout).items():
        assert not listening(url), "%s %s still answers after make demo" % (name, url)


def table_row(stdout, name, token):
    """The cells of the license table's line for an app of a token (the table ``make demo`` prints last)."""
    table = stdout.split("License table (")[1]
    pattern = re.compile(r"^%s(?: !)?\s+%s\s" % (re.escape(name), re.escape(token)), re.MULTILINE)
    line = table[pattern.search(table).start() :].splitlines()[0]
    return line[len(name) :].split()


def test_make_demo_runs_every_step_prints_the_table_and_the_report_and_stops_every_process(tmp_path):
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
        "MDM 3/9: license Keynote to the Sales devices, then install it through NanoMDM",
        "MDM 6/9: an uninstall deployment: the app is removed first",
        "MDM 8/9: run the uninstall again",
        "Write the license report",
    ):
        assert "TASK [%s" % step in demo.stdout
    assert "failed=0" in demo.stdout

    # the MDM part: licensed, then one InstallApplication per command shape (iPads; the Mac's InstallAsManaged)
    assert message(demo.stdout, "MDM 3/9: what went").startswith(
        "Apple licensed 3 devices; then InstallApplication went to their 3 enrollments in 2 NanoMDM request(s)"
    )
    # the devices answered (one said NotNow first, then installed when it came back), through vpp_events
    installed = message(demo.stdout, "MDM 4/9: the devices' answers, as mdm.vpp.vpp_events recorded them")
    assert installed.startswith("install states {'installed': 3}; answers: ")
    assert "DMPACME00041 NotNow (sent -> not_now)" in installed
    assert "DMPACME00041 Acknowledged (not_now -> installed)" in installed
    assert "C02ACME00040 Acknowledged (sent -> installed)" in installed
    # removal first: the licenses wait for the devices' confirmation, nothing reclaimed yet
    assert message(demo.stdout, "MDM 6/9: what went") == (
        "RemoveApplication went to 3 enrollments (found from the install deployment) in 1 NanoMDM request(s); "
        "3 licenses wait for the devices' confirmation, 0 reclaimed so far"
    )
    removed = message(demo.stdout, "MDM 7/9: the devices' answers to the removal")
    assert removed.startswith("install states {'removed': 3}; answers: ")
    assert removed.count("Acknowledged (removal_sent -> removed)") == 3
    # then the rerun reclaims: the licenses are back
    assert message(demo.stdout, "MDM 9/9: the licenses, step by step") == (
        "Keynote (acme-hq), 80 licenses: before 0 assigned; installed 3 assigned, 3 installed; "
        "reclaimed 3, now 0 assigned, 80 available"
    )
    events = [json.loads(line)["vpp"] for line in (run_dir / "events.jsonl").read_text().splitlines()]
    assert sorted((event["deployment"], event["install_state"]) for event in events) == sorted(
        [("keynote-sales-devices", "not_now")] + [("keynote-sales-devices", "installed")] * 3
        + [("keynote-sales-devices-returned", "removed")] * 3
    )  # fmt: skip
    assert "Device answers recorded by mdm.vpp.vpp_events: %s (7 events)" % (run_dir / "events.jsonl") in demo.stdout
    # the answers were signed by the stand-in and checked by the event source (which warns when it has no key)
    events_log = (run_dir / "events.log").read_text()
    assert "listening on 127.0.0.1" in events_log
    assert "accepted unsigned" not in events_log

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
    # Keynote was installed through the MDM, then removed and reclaimed: nothing assigned, deployed or installed
    assert table_row(demo.stdout, "Keynote", "acme-hq")[2:7] == ["80", "0", "80", "0", "0"]
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

    # the private store holds the demo's deployments, the install ones and the uninstall ones
    store = open_store(str(run_dir / "store" / "vpp.db"))
    try:
        deployments = {row["name"]: row["action"] for row in store.list_deployments()}
        returned = {row["member_id"]: (row["state"], row["install_state"])
                    for row in store.list_members("keynote-sales-devices-returned")}  # fmt: skip
    finally:
        store.close()
    assert returned == dict.fromkeys(("DMPACME00040", "DMPACME00041", "C02ACME00040"), ("reclaimed", "removed"))
    assert deployments == {
        "pages-design-macs": "install",
        "field-notes-field-ipads": "install",
        "logic-pro-studio-macs": "install",
        "playgrounds-teachers": "install",
        "pages-returned-macs": "uninstall",
        "keynote-sales-devices": "install",
        "keynote-sales-devices-returned": "uninstall",
    }

    # and the simulator, the MDM stand-in and the event source are gone
    assert demo.stdout.rstrip().endswith("simulator stopped")
    assert_everything_stopped(demo.stdout, run_dir)


def test_make_demo_stops_every_process_when_the_play_fails(tmp_path):
    run_dir = tmp_path / "run"
    # a scenario without the demo's locations: onboarding finds no token file and the play fails
    failed = run_make_demo(run_dir, "DEMO_SCENARIO=tests/simulator/scenarios/small.yml")
    assert failed.returncode != 0
    assert "failed=1" in failed.stdout
    assert_everything_stopped(failed.stdout, run_dir)
    assert not (run_dir / "report").exists()
