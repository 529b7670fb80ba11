# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Role mdm.vpp.vpp_report on a real run: the files a person opens (HTML in headless Chromium, CSV, JSON),
idempotence, check mode and failing on alerts."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.integration.conftest import Ansible
from tests.report_helpers import CHROMIUM_WIDTH, body_rows, color_counts, parse_report, read_png, screenshot
from tests.simulator import Simulator

NASTY = 'R&D <Tools> "Pro"'
# hq: a fully used app (critical), an app under 10 % left (warning), a comfortable one, a free one, a book and an
# app whose name needs escaping; school: a token that expires in 5 days.
SCENARIO = {
    "settings": {"event_delay": 0.01},
    "locations": [
        {
            "key": "hq",
            "name": "Report HQ",
            "type": "business",
            "expires_in_days": 300,
            "assets": [
                {"adamId": "1000000001", "name": "Pages", "total": 40, "platforms": ["iOS", "macOS"]},
                {"adamId": "1000000002", "name": "Logic Pro", "total": 3, "platforms": ["macOS"]},
                {"adamId": "1000000003", "name": "Keynote", "total": 20, "platforms": ["iOS"]},
                {"adamId": "1000000004", "name": NASTY, "total": 8, "platforms": ["iOS"]},
                {"adamId": "1000000005", "name": "Free Notes", "unlimited": True},
                {"adamId": "2000000001", "name": "Staff Handbook", "productType": "Book", "total": 10},
            ],
            "assignments": (
                [{"adamId": "1000000001", "serialNumber": "C02PAGES%04d" % i} for i in range(10)]
                + [{"adamId": "1000000002", "serialNumber": "C02LOGIC%04d" % i} for i in range(3)]
                + [{"adamId": "1000000003", "serialNumber": "C02KEYNO%04d" % i} for i in range(19)]
                + [{"adamId": "1000000004", "serialNumber": "C02NASTY%04d" % i} for i in range(2)]
                + [{"adamId": "1000000005", "serialNumber": "C02FREEN%04d" % i} for i in range(5)]
            ),
        },
        {
            "key": "school",
            "name": "Report School",
            "type": "education",
            "expires_in_days": 5,
            "assets": [{"adamId": "1000000101", "name": "GarageBand", "total": 30}],
            "assignments": [{"adamId": "1000000101", "serialNumber": "DMPSCH%06d" % i} for i in range(12)],
        },
    ],
}
ONBOARD = [
    {
        "name": "Register %s" % key,
        "mdm.vpp.vpp_token": {"name": key, "token_file": "{{ tokens_dir }}/%s.vpptoken" % key},
    }
    for key in ("hq", "school")
] + [{"name": "Sync", "mdm.vpp.vpp_sync": {"mode": "full"}}]


def report_tasks(report_dir, **role_vars):
    return [
        {
            "name": "Report",
            "ansible.builtin.include_role": {"name": "mdm.vpp.vpp_report"},
            "vars": dict(
                {"vpp_report_dir": str(report_dir), "vpp_report_formats": ["html", "csv", "json", "txt"]}, **role_vars
            ),  # fmt: skip
        }
    ]


class ReportRun:
    """One simulator, one store with both tokens synchronised, and a first report written into ``dir``."""

    def __init__(self, tmp, collections_path):
        self.simulator = Simulator(SCENARIO, tokens_dir=str(tmp / "tokens")).start()
        self.ansible = Ansible(tmp, collections_path, self.simulator.url)
        self.dir = tmp / "report"
        self.extra = ["-e", "tokens_dir=%s" % self.simulator.tokens_dir]
        onboard = self.ansible.play(ONBOARD, extra_args=self.extra)
        assert onboard.rc == 0, onboard.stdout
        self.simulator.purchase("hq", "1000000001", 10)  # a change for the "Last changes" section: Pages 40 -> 50
        synced = self.ansible.play([{"name": "Sync", "mdm.vpp.vpp_sync": {}}])
        assert synced.rc == 0, synced.stdout
        self.run = self.ansible.play(report_tasks(self.dir))
        assert self.run.rc == 0, self.run.stdout

    def read(self, extension):
        return (self.dir / ("vpp-licenses." + extension)).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def report(tmp_path_factory, collections_path):
    run = ReportRun(tmp_path_factory.mktemp("report"), collections_path)
    yield run
    run.simulator.stop()


def apple_counts(simulator):
    """``{adamId: (total, assigned, available)}`` as the simulator counts them, over both locations."""
    counts = {}
    for location in ("hq", "school"):
        for asset in simulator.location_state(location)["assets"]:
            counts[asset["adamId"]] = (asset["totalCount"], asset["assignedCount"], asset["availableCount"])
    return counts


def test_csv_has_one_row_per_app_with_apples_counts(report):
    rows = list(csv.DictReader(io.StringIO(report.read("csv"))))
    assert list(rows[0]) == ["name", "adam_id", "pricing_param", "product_type", "token", "token_type", "total",
                             "assigned", "available", "deployed", "installed", "percent_used", "unlimited",
                             "low"]  # fmt: skip
    assert {row["adam_id"]: (int(row["total"]), int(row["assigned"]), int(row["available"])) for row in rows} == (
        apple_counts(report.simulator)
    )
    by_name = {row["name"]: row for row in rows}
    assert set(by_name) == {"Pages", "Logic Pro", "Keynote", NASTY, "Free Notes", "Staff Handbook", "GarageBand"}
    assert by_name["Keynote"]["percent_used"] == "95.0"
    assert (by_name["Keynote"]["low"], by_name["Pages"]["low"], by_name["Free Notes"]["unlimited"]) == (
        "true", "false", "true"
    )  # fmt: skip
    assert (by_name["GarageBand"]["token"], by_name["GarageBand"]["token_type"]) == ("school", "education")


def test_json_holds_the_alerts_of_the_low_apps_and_the_expiring_token(report):
    data = json.loads(report.read("json"))
    assert [(alert["kind"], alert["severity"], alert.get("name", alert["token"])) for alert in data["alerts"]] == [
        ("token", "warning", "school"),
        ("low_licenses", "critical", "Logic Pro"),
        ("low_licenses", "warning", "Keynote"),
    ]
    assert data["summary"]["low"] == 2
    assert data["as_of"] == max(token["last_sync_at"] for token in data["tokens"])
    assert data["rules"] == {"low_threshold": "10%", "expiry_days": 30}


def test_html_rows_bars_and_alerts_match_the_data(report):
    page = parse_report(report.read("html"))
    rows = {row[0]: row for row in body_rows(page, "apps")}
    assert rows["Logic Prolow"][3:] == ["3", "3", "0", "0", "0", "100.0%"]
    assert rows[NASTY][3:] == ["8", "2", "6", "0", "0", "25.0%"]  # escaped in the file, intact on the page
    assert rows["Free Notes"][3:6] == ["unlimited", "5", "unlimited"]
    counts = apple_counts(report.simulator)
    assert len(page.bars) == len(counts)
    for drawn in page.bars:
        total, assigned, _available = counts[drawn.attrs["data-adam-id"]]
        if "used" in drawn.rects:
            share = drawn.rects["used"] / (drawn.rects["used"] + drawn.rects["available"])
            assert share == pytest.approx(assigned / total, abs=0.001)
    assert [(css, tag) for css, tag, _message in page.alerts] == [
        ("warning", "token"),
        ("critical", "low licenses"),
        ("warning", "low licenses"),
    ]
    assert page.alerts[0][2].startswith("token school expires on ")


def test_html_renders_in_chromium_with_the_chart_and_the_table(report, tmp_path):
    png = screenshot(report.dir / "vpp-licenses.html", tmp_path / "report.png", tmp_path / "chromium", height=1400)
    width, height, pixels = read_png(png.read_bytes())
    assert (width, height) == (CHROMIUM_WIDTH, 1400)
    counts = color_counts(pixels)
    background = counts.get((0xF4, 0xF6, 0xF8), 0) + counts.get((0xFF, 0xFF, 0xFF), 0)
    assert background < 0.9 * width * height, "the page is (nearly) blank"
    assert len(counts) > 50, "too few colours for text, a chart and a table"
    # the chart's bars are drawn: used (blue), used of a low app (red), available (green), at least a few
    # hundred pixels each
    assert counts.get((0x2F, 0x6F, 0xDF), 0) > 300
    assert counts.get((0xD6, 0x45, 0x45), 0) > 300
    assert counts.get((0xCD, 0xE8, 0xD6), 0) > 300


def test_writing_the_same_data_again_changes_nothing(report):
    again = report.ansible.play(report_tasks(report.dir))
    assert again.rc == 0, again.stdout
    written = again.result("Write the report files")
    assert [(item["item"], item["changed"]) for item in written["results"]] == [
        ("html", False), ("csv", False), ("json", False), ("txt", False)
    ]  # fmt: skip
    assert "changed=0" in again.stdout


def test_check_mode_writes_no_file(report, tmp_path):
    run = report.ansible.play(report_tasks(tmp_path / "check"), check=True)
    assert run.rc == 0, run.stdout
    assert not (tmp_path / "check").exists()
    assert [item["changed"] for item in run.result("Write the report files")["results"]] == [True] * 4


def test_fail_on_alerts_fails_the_play_after_writing_the_report(report, tmp_path):
    run = report.ansible.play(report_tasks(tmp_path / "alerts", vpp_report_fail_on_alerts=True))
    assert run.rc == 2
    message = run.result("Fail on alerts")["msg"]
    assert message.startswith(
        "3 alert(s) in the license report %s/vpp-licenses.html: token school" % (tmp_path / "alerts")
    )
    assert "Logic Pro (hq): no license left" in message
    assert (tmp_path / "alerts" / "vpp-licenses.html").read_text() == report.read("html")


def test_a_number_threshold_and_one_token_narrow_the_report(report, tmp_path):
    run = report.ansible.play(
        report_tasks(tmp_path / "hq", vpp_report_tokens=["hq"], vpp_report_low_threshold=7, vpp_report_show_table=False)
    )
    assert run.rc == 0, run.stdout
    data = json.loads((tmp_path / "hq" / "vpp-licenses.json").read_text())
    assert {app["token"] for app in data["apps"]} == {"hq"}
    assert [alert.get("name") for alert in data["alerts"]] == ["Logic Pro", "Keynote", NASTY]  # 0, 1, 6 left
    assert run.status("Show the license table") == "skipped"


def test_the_last_changes_come_from_the_audit_trail_newest_first(report):
    data = json.loads(report.read("json"))
    newest = data["changes"][0]
    assert (newest["token"], newest["app"], newest["who"]) == ("hq", "Pages", "Apple (found by a sync)")
    assert newest["summary"] == "licenses total 40 -> 50, available 30 -> 40"
    # then the first import of each token: every app's counts, 7 apps in all, never more than the 20 asked for
    assert len(data["changes"]) == 8
    assert all(change["summary"].startswith("new app, licenses total") for change in data["changes"][1:])
    assert [change["recorded_at"] for change in data["changes"]] == sorted(
        (change["recorded_at"] for change in data["changes"]), reverse=True
    )
    rows = body_rows(parse_report(report.read("html")), "changes")
    assert rows[0][1:] == ["hq", "Pages", "licenses total 40 -> 50, available 30 -> 40", "Apple (found by a sync)"]
    assert "Last changes" in report.read("txt")
    assert (
        report.run.result("Remember the report for the next tasks")["ansible_facts"]["vpp_report_result"]["changes"]
        == data["changes"]
    )


def test_the_last_changes_follow_the_tokens_and_can_be_left_out(report, tmp_path):
    run = report.ansible.play(
        report_tasks(tmp_path / "hq", vpp_report_tokens=["school"], vpp_report_changes=3)
        + report_tasks(tmp_path / "none", vpp_report_changes=0)
    )
    assert run.rc == 0, run.stdout
    school = json.loads((tmp_path / "hq" / "vpp-licenses.json").read_text())["changes"]
    assert [(change["token"], change["app"]) for change in school] == [("school", "GarageBand")]
    unchanged = json.loads((tmp_path / "none" / "vpp-licenses.json").read_text())
    assert unchanged["changes"] is None  # the report as it was before the section existed
    assert "Last changes" not in (tmp_path / "none" / "vpp-licenses.html").read_text()
