# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The license report: its numbers, alerts, and the HTML, CSV, JSON and text renderings (module_utils/report.py)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.mdm.vpp.plugins.filter.vpp_report import FilterModule
from ansible_collections.mdm.vpp.plugins.module_utils.report import (
    APP_COLUMNS,
    CHART_BAR_WIDTH,
    bar_widths,
    build_report,
    render_csv,
    render_html,
    render_json,
    render_text,
    spreadsheet_safe,
)
from tests.report_helpers import body_rows, parse_report

UNLIMITED = 2147483647
NASTY_NAME = "R&D <Tools> \"Pro\" 'edition'"


def app(name, token="hq", total=10, assigned=0, **overrides):
    """An app as mdm.vpp.vpp_app_info returns it."""
    values = {
        "name": name,
        "adam_id": overrides.pop("adam_id", str(abs(hash(name)) % 10**9)),
        "pricing_param": "STDQ",
        "bundle_id": "com.example." + (name or "x").lower().replace(" ", ""),
        "product_type": "App",
        "token": token,
        "token_type": "business" if token == "hq" else "education",
        "unlimited": False,
        "total": total,
        "assigned": assigned,
        "available": total - assigned,
        "retired": 0,
        "deployed": 0,
        "installed": 0,
        "percent_used": round(100.0 * assigned / total, 1) if total else 0.0,
        "low": False,
    }
    values.update(overrides)
    return values


def token(name="hq", status="valid", days_left=300, last_sync_at="2026-11-25T08:00:00+00:00", **overrides):
    """A token as mdm.vpp.vpp_token_info returns it."""
    values = {
        "name": name,
        "token_type": "business" if name == "hq" else "education",
        "location_name": name.upper(),
        "org_name": "Org of " + name,
        "expires_at": "2027-09-21T10:00:00+00:00",
        "days_left": days_left,
        "status": status,
        "last_sync_at": last_sync_at,
        "fingerprint": "abc123",
    }
    values.update(overrides)
    return values


@pytest.fixture
def sample():
    apps = [
        app("Pages", total=120, assigned=30, deployed=12),
        app("Logic Pro", total=4, assigned=4, low=True),
        app("Keynote", total=80, assigned=76, low=True),
        app("Free App", total=UNLIMITED, assigned=7, unlimited=True),
        app("Handbook", token="school", total=40, assigned=10, product_type="Book"),
        app(None, token="school", total=0, assigned=0, adam_id="555"),
    ]
    tokens = [token("school", status="expiring", days_left=12, last_sync_at="2026-11-25T09:30:00+00:00"), token()]
    return build_report(apps, tokens, low_threshold="10%", expiry_days=30)


# --- numbers -----------------------------------------------------------------------------------------------------


def test_summary_counts_licenses_without_unlimited_apps(sample):
    assert sample["summary"] == {
        "apps": 5,
        "books": 1,
        "tokens": 2,
        "total": 120 + 4 + 80 + 40 + 0,
        "assigned": 30 + 4 + 76 + 10,
        "available": 90 + 0 + 4 + 30,
        "deployed": 12,
        "installed": 0,
        "low": 2,
    }


def test_apps_are_sorted_by_token_then_name_with_unknown_names_by_adam_id(sample):
    assert [(row["token"], row["name"]) for row in sample["apps"]] == [
        ("hq", "Free App"),
        ("hq", "Keynote"),
        ("hq", "Logic Pro"),
        ("hq", "Pages"),
        ("school", None),  # "adamId 555" sorts before "Handbook"
        ("school", "Handbook"),
    ]


def test_report_does_not_depend_on_the_input_order(sample):
    again = build_report(
        list(reversed([dict(row, retired=0) for row in sample["apps"]])),
        [token(), token("school", status="expiring", days_left=12, last_sync_at="2026-11-25T09:30:00+00:00")],
        low_threshold="10%",
        expiry_days=30,
    )
    assert render_json(again) == render_json(sample)
    assert render_html(again) == render_html(sample)


def test_as_of_is_the_newest_synchronisation_and_none_without_any():
    report = build_report([], [token(last_sync_at="2026-11-25T08:00:00+00:00"), token("b", last_sync_at=None),
                               token("c", last_sync_at="2026-11-26T07:00:00Z")])  # fmt: skip
    assert report["as_of"] == "2026-11-26T07:00:00Z"
    assert build_report([], [token(last_sync_at=None)])["as_of"] is None


@pytest.mark.parametrize(
    ("total", "assigned", "expected"),
    [
        (4, 1, (CHART_BAR_WIDTH / 4, CHART_BAR_WIDTH * 3 / 4)),
        (3, 1, (146.7, 293.3)),
        (10, 10, (CHART_BAR_WIDTH, 0.0)),
        (10, 0, (0.0, CHART_BAR_WIDTH)),
        (10, 12, (CHART_BAR_WIDTH, 0.0)),  # more assigned than owned (refunds): a full bar, never wider
        (0, 0, (0.0, 0.0)),
    ],
)
def test_bar_widths_split_the_bar_by_the_assigned_share(total, assigned, expected):
    assert bar_widths({"total": total, "assigned": assigned}) == expected


# --- alerts --------------------------------------------------------------------------------------------------------


def test_alerts_list_tokens_first_then_low_apps_scarcest_first(sample):
    assert [(alert["kind"], alert["severity"], alert.get("name") or alert["token"]) for alert in sample["alerts"]] == [
        ("token", "warning", "school"),
        ("low_licenses", "critical", "Logic Pro"),
        ("low_licenses", "warning", "Keynote"),
    ]
    messages = [alert["message"] for alert in sample["alerts"]]
    assert messages[0].startswith("token school expires on 2027-09-21, in 12 days: download a new token from Apple "
                                  "School Manager")  # fmt: skip
    assert messages[1] == "Logic Pro (hq): no license left (threshold 10%); buy more licenses or reclaim unused ones"
    assert messages[2].startswith("Keynote (hq): 4 of 80 licenses left")


@pytest.mark.parametrize(
    ("status", "severity", "words"),
    [
        ("expired", "critical", "expired on 2027-09-21"),
        ("revoked", "critical", "is revoked at Apple"),
        ("invalid", "critical", "is invalid at Apple"),
        ("claimed_elsewhere", "critical", "another device-management service"),
    ],
)
def test_a_token_that_cannot_be_used_is_a_critical_alert(status, severity, words):
    (alert,) = build_report([], [token(status=status)])["alerts"]
    assert alert["severity"] == severity
    assert words in alert["message"]


def test_valid_tokens_and_apps_that_are_not_low_raise_no_alert():
    report = build_report([app("Pages", total=10, assigned=9)], [token()])
    assert report["alerts"] == []
    assert "No alerts" in render_html(report)


# --- CSV, JSON, text -----------------------------------------------------------------------------------------------


def test_csv_has_the_documented_columns_and_one_line_per_app(sample):
    rows = list(csv.DictReader(io.StringIO(render_csv(sample))))
    assert tuple(rows[0]) == APP_COLUMNS
    assert len(rows) == 6
    pages = next(row for row in rows if row["name"] == "Pages")
    assert pages == {
        "name": "Pages",
        "adam_id": pages["adam_id"],
        "pricing_param": "STDQ",
        "product_type": "App",
        "token": "hq",
        "token_type": "business",
        "total": "120",
        "assigned": "30",
        "available": "90",
        "deployed": "12",
        "installed": "0",
        "percent_used": "25.0",
        "unlimited": "false",
        "low": "false",
    }
    unknown = next(row for row in rows if row["adam_id"] == "555")
    assert unknown["name"] == ""


def test_csv_keeps_commas_quotes_and_markup_and_defuses_formulas():
    report = build_report([app(NASTY_NAME), app('=HYPERLINK("http://x")'), app("Pages, Keynote")], [])
    names = {row["name"] for row in csv.DictReader(io.StringIO(render_csv(report)))}
    assert names == {NASTY_NAME, '\'=HYPERLINK("http://x")', "Pages, Keynote"}
    assert spreadsheet_safe("-5") == "'-5"
    assert spreadsheet_safe(5) == 5


def test_json_holds_the_whole_report_and_is_stable(sample):
    text = render_json(sample)
    assert json.loads(text) == sample
    assert text == render_json(json.loads(text))


def test_text_table_aligns_numbers_and_marks_low_apps(sample):
    lines = render_text(sample).splitlines()
    assert lines[0].split() == [
        "App",
        "Token",
        "Type",
        "Total",
        "Assigned",
        "Available",
        "Deployed",
        "Installed",
        "Used",
    ]
    assert len({len(line) for line in lines[:2]}) == 1  # header as wide as its rule
    logic = next(line for line in lines if line.startswith("Logic Pro"))
    assert logic.split() == ["Logic", "Pro", "!", "hq", "business", "4", "4", "0", "0", "0", "100.0%"]
    free = next(line for line in lines if line.startswith("Free App"))
    assert free.split()[-6:] == ["unlimited", "7", "unlimited", "0", "0", "-"]
    # right-aligned: every "Used" cell ends in the same column
    assert len({len(line) for line in lines[2:8]}) == 1
    assert lines[-1].startswith("5 apps, 1 books, 2 tokens; 244 licenses, 120 assigned, 124 available")


# --- HTML ----------------------------------------------------------------------------------------------------------


def test_html_table_shows_every_app_with_its_counts(sample):
    page = parse_report(render_html(sample))
    assert page.tables["apps"][0] == [
        "App",
        "Token",
        "Type",
        "Total",
        "Assigned",
        "Available",
        "Deployed",
        "Installed",
        "Used",
    ]
    rows = body_rows(page, "apps")
    assert rows[0] == ["Free App", "hq", "business", "unlimited", "7", "unlimited", "0", "0", "-"]
    assert rows[1] == ["Keynotelow", "hq", "business", "80", "76", "4", "0", "0", "95.0%"]
    assert rows[4][0] == "adamId 555"
    assert rows[5][0] == "Handbookbook"
    assert page.row_classes["apps"] == ["", "low", "low", "", "", ""]


def test_html_chart_has_one_bar_per_app_fullest_first_in_proportion(sample):
    page = parse_report(render_html(sample))
    assert page.svg_count == 1
    names = {row["adam_id"]: row["name"] for row in sample["apps"]}
    # equal shares (Pages and Handbook, 25 %) keep the table's order: token, then name; unlimited apps come last
    assert [names[drawn.attrs["data-adam-id"]] for drawn in page.bars] == [
        "Logic Pro", "Keynote", "Pages", "Handbook", None, "Free App"
    ]  # fmt: skip
    for drawn in page.bars:
        total, assigned = int(drawn.attrs["data-total"]), int(drawn.attrs["data-assigned"])
        if "unlimited" in drawn.rects:
            assert drawn.rects == {"unlimited": CHART_BAR_WIDTH}
            assert drawn.texts[-1] == "unlimited, 7 used"
        elif total:
            assert drawn.rects["used"] + drawn.rects["available"] == pytest.approx(CHART_BAR_WIDTH)
            assert drawn.rects["used"] / CHART_BAR_WIDTH == pytest.approx(assigned / total, abs=0.001)
    logic = next(drawn for drawn in page.bars if drawn.texts[-1] == "4 of 4 used, 0 left")
    assert logic.rects == {"used": CHART_BAR_WIDTH, "available": 0.0}


def test_html_shows_the_alerts_the_summary_and_the_data_date(sample):
    page = parse_report(render_html(sample))
    assert [(css, tag) for css, tag, _message in page.alerts] == [
        ("warning", "token"),
        ("critical", "low licenses"),
        ("warning", "low licenses"),
    ]
    assert page.alerts[1][2] == sample["alerts"][1]["summary"]  # the advice is stated once, under the list
    assert page.cards == {
        "apps": "5",
        "books": "1",
        "tokens": "2",
        "licenses owned": "244",
        "assigned": "120",
        "available": "124",
        "alerts": "3",
    }
    assert "Data as of 2026-11-25 09:30 UTC (the last synchronisation with Apple)." in "".join(page.text)
    assert body_rows(page, "tokens")[1] == ["school", "education", "SCHOOL", "2027-09-21", "12", "expiring",
                                            "2026-11-25 09:30 UTC"]  # fmt: skip


def test_html_escapes_names_with_markup_ampersands_and_quotes():
    report = build_report([app(NASTY_NAME, token='t"<i>', low=True, total=5, assigned=5)],
                          [token('t"<i>', status="expired")], title="Licences <R&D>")  # fmt: skip
    html = render_html(report)
    assert "<Tools>" not in html and "<i>" not in html and '"Pro"' not in html
    page = parse_report(html)
    assert page.title == "Licences <R&D>"
    assert body_rows(page, "apps")[0][:2] == [NASTY_NAME + "low", 't"<i>']
    assert page.bars[0].texts[0] == NASTY_NAME + ' t"<i>'
    assert page.bars[0].title == NASTY_NAME + ' (t"<i>): 5 of 5 used, 0 left'
    assert page.bars[0].attrs["data-token"] == 't"<i>'
    assert [message for _css, _tag, message in page.alerts][1].startswith(NASTY_NAME)


def test_html_is_self_contained(sample):
    page = parse_report(render_html(sample))
    assert page.scripts == 0
    assert page.external_refs == []


def test_html_with_two_hundred_apps_keeps_one_row_and_one_bar_each():
    apps = [app("App %03d" % index, total=100, assigned=index % 101) for index in range(200)]
    page = parse_report(render_html(build_report(apps, [token()])))
    assert len(body_rows(page, "apps")) == 200
    assert len(page.bars) == 200
    assert page.bars[0].texts[-1] == "100 of 100 used, 0 left"


def test_long_names_are_shortened_in_the_chart_but_whole_in_its_tooltip_and_the_table():
    name = "A very long application name that goes on and on, well past the chart's label column"
    page = parse_report(render_html(build_report([app(name)], [])))
    assert page.bars[0].texts[0].endswith("\u2026 hq")
    assert len(page.bars[0].texts[0]) < 50
    assert page.bars[0].title.startswith(name)
    assert body_rows(page, "apps")[0][0] == name


# --- the filter plugin ---------------------------------------------------------------------------------------------


def test_filter_returns_the_report_with_its_renderings(sample):
    vpp_report = FilterModule().filters()["vpp_report"]
    result = vpp_report(sample["apps"], sample["tokens"], low_threshold="10%", expiry_days=30)
    assert set(result["rendered"]) == {"html", "csv", "json", "txt"}
    assert result["rendered"]["json"] == render_json({key: value for key, value in result.items() if key != "rendered"})
    assert result["summary"] == sample["summary"]


def test_filter_refuses_input_that_is_not_a_list_of_apps():
    vpp_report = FilterModule().filters()["vpp_report"]
    with pytest.raises(AnsibleFilterError, match="apps list of mdm.vpp.vpp_app_info"):
        vpp_report({"apps": []}, [])


# --- the last changes ------------------------------------------------------------------------------------------------


def change(summary, app_name="Pages", who="mdm.vpp", recorded_at="2026-11-25T08:03:41+00:00", **overrides):
    """An entry as mdm.vpp.vpp_audit_info returns it."""
    entry = {"recorded_at": recorded_at, "token": "hq", "kind": "assignment_added", "origin": "local", "run_id": None,
             "adam_id": "1", "pricing_param": "STDQ", "app": app_name, "target_kind": "device",
             "target_id": "C02XK0AAJG5H", "before": None, "after": None, "who": who, "summary": summary}  # fmt: skip
    entry.update(overrides)
    return entry


CHANGES = [
    change("license assigned to device C02XK0AAJG5H"),
    change("licenses total 3 -> 8, available 3 -> 8", app_name=None, adam_id="1000000002",
           who="Apple (found by a sync)", recorded_at="2026-11-24T07:00:00+00:00"),
    change("user u-3 removed", app_name=None, adam_id=None, token="school", who="Apple (found by a sync)",
           recorded_at="2026-11-23T07:00:00+00:00"),
]  # fmt: skip


def test_the_last_changes_are_in_the_report_newest_first_with_the_app_by_name(sample):
    report = build_report(sample["apps"], sample["tokens"], changes=CHANGES)
    assert report["changes"] == [
        {"recorded_at": "2026-11-25T08:03:41+00:00", "token": "hq", "app": "Pages",
         "summary": "license assigned to device C02XK0AAJG5H", "who": "mdm.vpp"},
        {"recorded_at": "2026-11-24T07:00:00+00:00", "token": "hq", "app": "adamId 1000000002",
         "summary": "licenses total 3 -> 8, available 3 -> 8", "who": "Apple (found by a sync)"},
        {"recorded_at": "2026-11-23T07:00:00+00:00", "token": "school", "app": None, "summary": "user u-3 removed",
         "who": "Apple (found by a sync)"},
    ]  # fmt: skip
    assert json.loads(render_json(report))["changes"] == report["changes"]
    page = parse_report(render_html(report))
    assert body_rows(page, "changes") == [
        ["2026-11-25 08:03 UTC", "hq", "Pages", "license assigned to device C02XK0AAJG5H", "mdm.vpp"],
        ["2026-11-24 07:00 UTC", "hq", "adamId 1000000002", "licenses total 3 -> 8, available 3 -> 8",
         "Apple (found by a sync)"],
        ["2026-11-23 07:00 UTC", "school", "-", "user u-3 removed", "Apple (found by a sync)"],
    ]  # fmt: skip
    text = render_text(report).splitlines()
    start = text.index("Last changes")
    assert text[start + 1] == (
        "2026-11-25 08:03 UTC  hq      Pages              license assigned to device C02XK0AAJG5H (mdm.vpp)"
    )
    assert text[start + 3].startswith("2026-11-23 07:00 UTC  school  -  ")


def test_without_changes_the_report_is_as_before_and_an_empty_list_says_so(sample):
    assert sample["changes"] is None
    assert "Last changes" not in render_html(sample) and "Last changes" not in render_text(sample)
    assert "changes" not in parse_report(render_html(sample)).tables
    empty = build_report(sample["apps"], sample["tokens"], changes=[])
    assert 'id="no-changes">No change recorded.' in render_html(empty)
    assert render_text(empty).endswith("Last changes\n(no change recorded)\n")
    assert render_csv(empty) == render_csv(sample)  # the CSV is one line per app, changes or not


def test_change_text_is_escaped_in_the_html():
    report = build_report([], [], changes=[change("user <b>x</b> removed", app_name=NASTY_NAME)])
    html = render_html(report)
    assert "<b>x</b>" not in html
    assert body_rows(parse_report(html), "changes")[0][2:4] == [NASTY_NAME, "user <b>x</b> removed"]


def test_filter_takes_the_changes_as_an_optional_argument(sample):
    vpp_report = FilterModule().filters()["vpp_report"]
    assert vpp_report(sample["apps"], sample["tokens"])["changes"] is None
    assert len(vpp_report(sample["apps"], sample["tokens"], changes=CHANGES)["changes"]) == 3
    with pytest.raises(AnsibleFilterError, match="changes= to be the entries list of mdm.vpp.vpp_audit_info"):
        vpp_report(sample["apps"], sample["tokens"], changes={"entries": []})
