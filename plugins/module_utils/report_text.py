# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The license report as CSV (one line per app), JSON (the whole report) and text (a table for a terminal).

Pure functions of the report dict of build_report: the same data gives the same bytes.
"""

from __future__ import annotations

import csv
import io
import json

from ansible_collections.mdm.vpp.plugins.module_utils.report_rows import (
    APP_COLUMNS,
    count_text,
    display_name,
    format_time,
    percent_text,
    truncate,
)

# Spreadsheets run a cell starting with one of these as a formula (CSV injection); such text gets a leading quote.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """Text a spreadsheet would run as a formula gets a leading apostrophe; other values are unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_value(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else spreadsheet_safe(value)


def render_csv(report):
    """One line per app under a header of ``APP_COLUMNS`` (RFC 4180: CRLF line ends, quoted when needed)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(APP_COLUMNS)
    for row in report["apps"]:
        writer.writerow([csv_value(row[column]) for column in APP_COLUMNS])
    return out.getvalue()


def render_json(report):
    """The report dict as indented JSON with sorted keys (stable bytes for the same data)."""
    return json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


TEXT_HEADER = ("App", "Token", "Type", "Total", "Assigned", "Available", "Deployed", "Installed", "Used")


def text_cells(row):
    name = truncate(display_name(row), 32) + (" !" if row["low"] else "")
    return (
        name,
        row["token"] or "",
        row["token_type"] or "",
        count_text(row, "total"),
        count_text(row, "assigned"),
        count_text(row, "available"),
        count_text(row, "deployed"),
        count_text(row, "installed"),
        percent_text(row),
    )


def render_text(report):
    """The license table for a terminal: fixed-width columns, numbers right-aligned, ``!`` marks a low app."""
    lines = [TEXT_HEADER] + [text_cells(row) for row in report["apps"]]
    widths = [max(len(cells[index]) for cells in lines) for index in range(len(TEXT_HEADER))]

    def line(cells):
        left = [cell.ljust(widths[index]) for index, cell in enumerate(cells[:3])]
        right = [cell.rjust(widths[index + 3]) for index, cell in enumerate(cells[3:])]
        return "  ".join(left + right).rstrip()

    rule = "  ".join("=" * width for width in widths)
    out = [line(TEXT_HEADER), rule] + [line(cells) for cells in lines[1:]]
    summary = report["summary"]
    out.append(rule)
    out.append(
        "%d apps, %d books, %d tokens; %s licenses, %s assigned, %s available (unlimited apps not counted); "
        "%d low (!), %d alert(s)"
        % (
            summary["apps"],
            summary["books"],
            summary["tokens"],
            "{:,}".format(summary["total"]),
            "{:,}".format(summary["assigned"]),
            "{:,}".format(summary["available"]),
            summary["low"],
            len(report["alerts"]),
        )
    )
    if report.get("changes") is not None:
        out += ["", "Last changes"] + (changes_lines(report["changes"]) or ["(no change recorded)"])
    return "\n".join(out) + "\n"


def changes_lines(changes):
    """One line per change: when, token, app, what changed, and who (fixed-width, newest first)."""
    cells = [
        (format_time(change["recorded_at"]), change["token"] or "", truncate(change["app"] or "-", 32))
        for change in changes
    ]
    widths = [max((len(row[index]) for row in cells), default=0) for index in range(3)]
    return [
        "  ".join(cell.ljust(widths[index]) for index, cell in enumerate(row))
        + "  %s (%s)" % (change["summary"], change["who"])
        for row, change in zip(cells, changes, strict=True)
    ]
