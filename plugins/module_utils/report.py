# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The license report "Apple VPP apps with license counts": its numbers, its alerts and its four renderings.

Input is what the modules return: the ``apps`` of ``mdm.vpp.vpp_app_info`` (whose ``low`` flag already applies the
low-license threshold) and the ``tokens`` of ``mdm.vpp.vpp_token_info`` (whose ``status`` already applies the expiry
warning window). ``build_report`` turns them into one plain dict; ``render_html``, ``render_csv``, ``render_json``
and ``render_text`` turn that dict into text.

Everything here is a pure function and reads no clock: the same data gives the same bytes, so a role writing the
files with ``ansible.builtin.copy`` reports a change only when the data changed. The report's date is the newest
synchronisation of its tokens ("data as of"), not the time it was written.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from html import escape

from ansible_collections.mdm.vpp.plugins.module_utils.tokens import portal_name

DEFAULT_TITLE = "Apple VPP apps with license counts"
# The columns of the CSV file and the fields of each app in the JSON file, in this order (docs/report.md).
APP_COLUMNS = (
    "name",
    "adam_id",
    "pricing_param",
    "product_type",
    "token",
    "token_type",
    "total",
    "assigned",
    "available",
    "deployed",
    "percent_used",
    "unlimited",
    "low",
)
TOKEN_COLUMNS = ("name", "token_type", "location_name", "org_name", "expires_at", "days_left", "status", "last_sync_at")
# Token statuses of vpp_token_info that need a person; "expiring" is within the report's expiry window.
TOKEN_ALERT_STATUSES = ("expiring", "expired", "revoked", "invalid", "claimed_elsewhere")
# Spreadsheets run a cell starting with one of these as a formula (CSV injection); such text gets a leading quote.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# Chart geometry (SVG user units; the SVG scales to the page width): one row per app.
CHART_WIDTH = 960
CHART_LABEL_WIDTH = 330
CHART_BAR_WIDTH = 440
CHART_ROW_HEIGHT = 24
CHART_BAR_HEIGHT = 14
CHART_TOP = 30
CHART_LABEL_CHARS = 44  # about what fits in CHART_LABEL_WIDTH at 13px; the full name is in the row's <title>


# --- numbers ------------------------------------------------------------------------------------------------------


def app_row(app):
    """One app of ``vpp_app_info`` reduced to the report's fields (``APP_COLUMNS``), numbers as ints."""
    row = {column: app.get(column) for column in APP_COLUMNS}
    for column in ("total", "assigned", "available", "deployed"):
        row[column] = int(row[column] or 0)
    row["percent_used"] = float(row["percent_used"] or 0.0)
    row["unlimited"] = bool(row["unlimited"])
    row["low"] = bool(row["low"])
    row["adam_id"] = str(row["adam_id"])
    return row


def display_name(row):
    """The app's name, or its adamId while no synchronisation has found its name."""
    return row["name"] or "adamId %s" % row["adam_id"]


def sort_key(row):
    return (row["token"] or "", display_name(row).lower(), row["adam_id"], row["pricing_param"] or "")


def token_row(token):
    """One token of ``vpp_token_info`` reduced to the report's fields (``TOKEN_COLUMNS``)."""
    return {column: token.get(column) for column in TOKEN_COLUMNS}


def summarize(rows, tokens):
    """Counts for the report's header; unlimited (free) apps count as apps but not in the license totals."""
    counted = [row for row in rows if not row["unlimited"]]
    return {
        "apps": sum(1 for row in rows if row["product_type"] != "Book"),
        "books": sum(1 for row in rows if row["product_type"] == "Book"),
        "tokens": len(tokens),
        "total": sum(row["total"] for row in counted),
        "assigned": sum(row["assigned"] for row in counted),
        "available": sum(row["available"] for row in counted),
        "deployed": sum(row["deployed"] for row in rows),
        "low": sum(1 for row in rows if row["low"]),
    }


def as_of(tokens):
    """The newest ``last_sync_at`` of the tokens (ISO 8601), or None when none was ever synchronised."""
    stamps = [token["last_sync_at"] for token in tokens if token.get("last_sync_at")]
    return max(stamps, key=parse_time) if stamps else None


def parse_time(value):
    stamp = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def format_time(value):
    """``2026-11-25T08:03:41+00:00`` -> ``2026-11-25 08:03 UTC``."""
    return parse_time(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "never"


LOW_ADVICE = "buy more licenses or reclaim unused ones"


def low_alert(row, low_threshold):
    """An app under the threshold; ``summary`` is the short form the HTML lists (it states the advice once)."""
    left = "no license left" if row["available"] <= 0 else "%d of %d licenses left" % (row["available"], row["total"])
    rule = " (threshold %s)" % low_threshold if low_threshold is not None else ""
    summary = "%s (%s): %s" % (display_name(row), row["token"], left)
    return {
        "kind": "low_licenses",
        "severity": "critical" if row["available"] <= 0 else "warning",
        "token": row["token"],
        "adam_id": row["adam_id"],
        "name": display_name(row),
        "summary": summary,
        "message": "%s%s; %s" % (summary, rule, LOW_ADVICE),
    }


def token_alert(token):
    status, name = token["status"], token["name"]
    expires = (token.get("expires_at") or "")[:10]
    portal = portal_name(token.get("token_type"))
    if status == "expiring":
        days = token.get("days_left")
        when = "today" if days == 0 else "tomorrow" if days == 1 else "in %d days" % days
        message = "token %s expires on %s, %s: download a new token from %s and register it with mdm.vpp.vpp_token"
        message %= (name, expires, when, portal)
    elif status == "expired":
        message = "token %s expired on %s: download a new token from %s and register it with mdm.vpp.vpp_token"
        message %= (name, expires, portal)
    elif status == "claimed_elsewhere":
        message = (
            "token %s: another device-management service has taken the location over; its licenses are not managed "
            "here until it is registered again with force_takeover" % name
        )
    else:
        message = "token %s is %s at Apple: download a new token from %s and register it with mdm.vpp.vpp_token"
        message %= (name, status, portal)
    return {
        "kind": "token",
        "severity": "warning" if status == "expiring" else "critical",
        "token": name,
        "status": status,
        "summary": message,
        "message": message,
    }


def build_alerts(rows, tokens, low_threshold=None):
    """Token alerts first (a dead token hides every app behind it), then low apps, scarcest first."""
    alerts = [token_alert(token) for token in tokens if token.get("status") in TOKEN_ALERT_STATUSES]
    low = sorted((row for row in rows if row["low"]), key=lambda row: (row["available"], sort_key(row)))
    return alerts + [low_alert(row, low_threshold) for row in low]


def build_report(apps, tokens, title=None, low_threshold=None, expiry_days=None):
    """The report as one plain dict: ``title``, ``as_of``, ``rules``, ``summary``, ``tokens``, ``apps``, ``alerts``.

    ``apps`` and ``tokens`` are the lists vpp_app_info and vpp_token_info return. ``low_threshold`` and
    ``expiry_days`` only describe the rules those modules applied (the report prints them); they decide nothing.
    """
    rows = sorted((app_row(app) for app in apps or ()), key=sort_key)
    token_rows = sorted((token_row(token) for token in tokens or ()), key=lambda token: token["name"] or "")
    return {
        "title": title or DEFAULT_TITLE,
        "as_of": as_of(token_rows),
        "rules": {"low_threshold": None if low_threshold is None else str(low_threshold), "expiry_days": expiry_days},
        "summary": summarize(rows, token_rows),
        "tokens": token_rows,
        "apps": rows,
        "alerts": build_alerts(rows, token_rows, low_threshold),
    }


def bar_widths(row, width=CHART_BAR_WIDTH):
    """``(used, available)`` widths of an app's bar: the whole bar is its total, the used part its assigned share.

    Rounded to a tenth of a unit; an app with no license at all has an empty bar.
    """
    if row["total"] <= 0:
        return 0.0, 0.0
    used = round(width * min(row["assigned"], row["total"]) / row["total"], 1)
    return used, round(width - used, 1)


# --- CSV, JSON, text ----------------------------------------------------------------------------------------------


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


def count_text(row, column):
    """A count for people: thousands separated, "unlimited" for the total and available of a free app."""
    if row["unlimited"] and column in ("total", "available"):
        return "unlimited"
    return f"{row[column]:,}"


def percent_text(row):
    return "-" if row["unlimited"] else "%.1f%%" % row["percent_used"]


def truncate(text, limit):
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


TEXT_HEADER = ("App", "Token", "Type", "Total", "Assigned", "Available", "Deployed", "Used")


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
    return "\n".join(out) + "\n"


# --- HTML ---------------------------------------------------------------------------------------------------------

STYLE = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; background: #f4f6f8; color: #1f2933;
  font: 15px/1.45 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 28px 24px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 32px 0 10px; }
.asof { color: #52606d; margin: 0 0 18px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 0; padding: 0; list-style: none; }
.cards li { flex: 1 1 110px; background: #fff; border: 1px solid #d9e2ec; border-radius: 8px; padding: 10px 14px; }
.cards li.alerting { border-color: #f0b429; background: #fffbea; }
.cards b { display: block; font-size: 22px; font-variant-numeric: tabular-nums; }
.cards span { color: #52606d; font-size: 13px; }
.alerts { list-style: none; margin: 0; padding: 0; }
.alerts li { background: #fff; border: 1px solid #d9e2ec; border-left: 6px solid #d97706; border-radius: 6px;
  padding: 6px 12px; margin: 0 0 6px; }
.alerts li.critical { border-left-color: #c81e1e; }
.alerts .tag { font-size: 12px; font-weight: 600; text-transform: uppercase; margin-right: 8px; color: #92400e; }
.alerts li.critical .tag { color: #c81e1e; }
.ok { background: #fff; border: 1px solid #d9e2ec; border-left: 6px solid #2f855a; border-radius: 6px;
  padding: 8px 12px; margin: 0; }
.panel { background: #fff; border: 1px solid #d9e2ec; border-radius: 8px; padding: 12px 16px; }
.legend { display: flex; gap: 18px; font-size: 13px; color: #52606d; margin: 0 0 6px; }
.legend i { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 6px;
  vertical-align: -1px; }
svg.chart { display: block; width: 100%; height: auto; }
svg.chart text { font: 13px -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, Arial, sans-serif;
  fill: #1f2933; }
svg.chart text.token, svg.chart text.scale { fill: #7b8794; font-size: 12px; }
svg.chart text.low { fill: #c81e1e; font-weight: 600; }
table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid #d9e2ec; font-size: 14px; }
th, td { padding: 6px 10px; border-bottom: 1px solid #e4e7eb; text-align: left; }
th { position: sticky; top: 0; background: #eef2f6; font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) { background: #f8fafc; }
tr.low td.avail { color: #c81e1e; font-weight: 600; }
.pill { display: inline-block; font-size: 11px; font-weight: 600; border-radius: 9px; padding: 0 7px;
  margin-left: 6px; vertical-align: 1px; background: #fde8e8; color: #c81e1e; }
.pill.book { background: #e6f0ff; color: #1d4ed8; }
.muted { color: #7b8794; }
td.status.warning { color: #b45309; font-weight: 600; }
td.status.critical { color: #c81e1e; font-weight: 600; }
footer { color: #7b8794; font-size: 13px; margin-top: 28px; }
@media print { body { background: #fff; } th { position: static; } }
"""

COLOR_USED = "#2f6fdf"
COLOR_USED_LOW = "#d64545"
COLOR_AVAILABLE = "#cde8d6"
COLOR_UNLIMITED = "#e4e7eb"


def html_text(value):
    """Text for HTML and inline SVG, with ``<``, ``>``, ``&`` and both quotes escaped."""
    return escape("" if value is None else str(value), quote=True)


def render_cards(summary, alert_count):
    cards = (
        ("{:,}".format(summary["apps"]), "apps"),
        ("{:,}".format(summary["books"]), "books"),
        ("{:,}".format(summary["tokens"]), "tokens"),
        ("{:,}".format(summary["total"]), "licenses owned"),
        ("{:,}".format(summary["assigned"]), "assigned"),
        ("{:,}".format(summary["available"]), "available"),
        (f"{alert_count:,}", "alerts"),
    )
    items = "".join("<li><b>%s</b><span>%s</span></li>" % (value, label) for value, label in cards)
    return '<ul class="cards" id="summary">%s</ul>' % items


def rules_text(rules):
    parts = []
    if rules.get("low_threshold") is not None:
        parts.append("an app is low when fewer than %s of its licenses are available" % rules["low_threshold"])
    if rules.get("expiry_days") is not None:
        parts.append("a token is flagged %s days before it expires" % rules["expiry_days"])
    return "; ".join(parts)


def render_alerts(alerts, rules):
    rule = rules_text(rules)
    if any(alert["kind"] == "low_licenses" for alert in alerts):
        rule = (rule + ". " if rule else "") + "For the apps low on licenses: " + LOW_ADVICE
    note = '<p class="muted">%s.</p>' % html_text(rule[:1].upper() + rule[1:]) if rule else ""
    if not alerts:
        return (
            '<p class="ok" id="no-alerts">No alerts: every app has licenses left and every token is valid.</p>' + note
        )
    items = "".join(
        '<li class="%s" data-kind="%s"><span class="tag">%s</span>%s</li>'
        % (
            alert["severity"],
            alert["kind"],
            "low licenses" if alert["kind"] == "low_licenses" else "token",
            html_text(alert["summary"]),
        )
        for alert in alerts
    )
    return '<ul class="alerts" id="alerts">%s</ul>%s' % (items, note)


def chart_order(rows):
    """Fullest first, so the apps that run out head the chart; unlimited apps last, then by name."""
    return sorted(rows, key=lambda row: (row["unlimited"], -row["percent_used"], sort_key(row)))


def chart_row(index, row):
    top = CHART_TOP + index * CHART_ROW_HEIGHT
    bar_y = top + (CHART_ROW_HEIGHT - CHART_BAR_HEIGHT) / 2
    text_y = top + CHART_ROW_HEIGHT / 2 + 4.5
    bar_x = CHART_LABEL_WIDTH
    name, token = display_name(row), row["token"] or ""
    label = truncate(name, max(CHART_LABEL_CHARS - len(token) - 3, 12))
    title = "%s (%s): %s" % (name, token, bar_caption(row))
    parts = [
        '<g class="bar" data-adam-id="%s" data-token="%s" data-total="%d" data-assigned="%d">'
        % (html_text(row["adam_id"]), html_text(token), row["total"], row["assigned"]),
        "<title>%s</title>" % html_text(title),
        '<text x="0" y="%.1f">%s <tspan class="token" fill="#7b8794" font-size="12">%s</tspan></text>'
        % (text_y, html_text(label), html_text(token)),
    ]
    if row["unlimited"]:
        parts.append(
            '<rect class="unlimited" x="%d" y="%.1f" width="%d" height="%d" rx="2" fill="url(#unlimited)"/>'
            % (bar_x, bar_y, CHART_BAR_WIDTH, CHART_BAR_HEIGHT)
        )
    else:
        used, available = bar_widths(row)
        parts.append(
            '<rect class="available" x="%.1f" y="%.1f" width="%.1f" height="%d" fill="%s"/>'
            % (bar_x + used, bar_y, available, CHART_BAR_HEIGHT, COLOR_AVAILABLE)
        )
        parts.append(
            '<rect class="used" x="%d" y="%.1f" width="%.1f" height="%d" fill="%s"/>'
            % (bar_x, bar_y, used, CHART_BAR_HEIGHT, COLOR_USED_LOW if row["low"] else COLOR_USED)
        )
    parts.append(
        '<text x="%d" y="%.1f"%s>%s</text>'
        % (bar_x + CHART_BAR_WIDTH + 12, text_y, ' class="low"' if row["low"] else "", html_text(bar_caption(row)))
    )
    parts.append("</g>")
    return "".join(parts)


def bar_caption(row):
    if row["unlimited"]:
        return "unlimited, %s used" % "{:,}".format(row["assigned"])
    if row["total"] <= 0:
        return "no licenses"
    return "%s of %s used, %s left" % (
        "{:,}".format(row["assigned"]),
        "{:,}".format(row["total"]),
        "{:,}".format(row["available"]),
    )


def chart_scale():
    """Grid lines and labels at 0, 25, 50, 75 and 100 % of each app's licenses."""
    height = CHART_TOP - 8
    parts = []
    for percent in (0, 25, 50, 75, 100):
        parts.append(
            '<text class="scale" x="%.1f" y="%d" text-anchor="middle" fill="#7b8794" font-size="12">%d%%</text>'
            % (scale_x(percent), height - 6, percent)
        )
    return "".join(parts)


def scale_x(percent):
    return CHART_LABEL_WIDTH + CHART_BAR_WIDTH * percent / 100.0


def chart_grid(row_count):
    bottom = CHART_TOP + row_count * CHART_ROW_HEIGHT
    return "".join(
        '<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#e4e7eb"/>'
        % (scale_x(percent), CHART_TOP - 10, scale_x(percent), bottom)
        for percent in (25, 50, 75, 100)
    )


def render_chart(rows):
    """Inline SVG: one horizontal bar per app, its whole length the app's licenses, split into used and available."""
    ordered = chart_order(rows)
    height = CHART_TOP + len(ordered) * CHART_ROW_HEIGHT + 6
    pattern = (
        '<defs><pattern id="unlimited" width="8" height="8" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="8" height="8" fill="%s"/>'
        '<rect width="3" height="8" fill="#cbd2d9"/></pattern></defs>' % COLOR_UNLIMITED
    )
    return (
        '<svg class="chart" id="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" '
        'height="%d" role="img" aria-labelledby="chart-title"><title id="chart-title">Licenses used and available '
        "per app</title>%s%s%s%s</svg>"
        % (
            CHART_WIDTH,
            height,
            CHART_WIDTH,
            height,
            pattern,
            chart_grid(len(ordered)),
            chart_scale(),
            "".join(chart_row(index, row) for index, row in enumerate(ordered)),
        )
    )


def render_legend():
    return (
        '<p class="legend"><span><i style="background:%s"></i>used (assigned)</span>'
        '<span><i style="background:%s"></i>used, app low on licenses</span>'
        '<span><i style="background:%s"></i>available</span>'
        '<span><i style="background:repeating-linear-gradient(45deg,%s 0 3px,#cbd2d9 3px 5px)"></i>unlimited</span>'
        "</p>" % (COLOR_USED, COLOR_USED_LOW, COLOR_AVAILABLE, COLOR_UNLIMITED)
    )


APP_TABLE_HEADER = (
    ("App", ""),
    ("Token", ""),
    ("Type", ""),
    ("Total", "n"),
    ("Assigned", "n"),
    ("Available", "n"),
    ("Deployed", "n"),
    ("Used", "n"),
)


def table_head(columns):
    return "<thead><tr>%s</tr></thead>" % "".join(
        '<th scope="col"%s>%s</th>' % (' class="%s"' % kind if kind else "", label) for label, kind in columns
    )


def app_table_row(row):
    name = html_text(row["name"]) if row["name"] else '<span class="muted">%s</span>' % html_text(display_name(row))
    if row["product_type"] == "Book":
        name += '<span class="pill book">book</span>'
    if row["low"]:
        name += '<span class="pill">low</span>'
    cells = (
        ("", name),
        ("", html_text(row["token"])),
        ("", html_text(row["token_type"])),
        ("n", count_text(row, "total")),
        ("n", count_text(row, "assigned")),
        ("n avail", count_text(row, "available")),
        ("n", count_text(row, "deployed")),
        ("n", percent_text(row)),
    )
    return '<tr%s data-adam-id="%s">%s</tr>' % (
        ' class="low"' if row["low"] else "",
        html_text(row["adam_id"]),
        "".join("<td%s>%s</td>" % (' class="%s"' % kind if kind else "", value) for kind, value in cells),
    )


def render_app_table(rows):
    return '<table id="apps">%s<tbody>%s</tbody></table>' % (
        table_head(APP_TABLE_HEADER),
        "".join(app_table_row(row) for row in rows),
    )


TOKEN_TABLE_HEADER = (
    ("Token", ""),
    ("Type", ""),
    ("Location", ""),
    ("Expires", ""),
    ("Days left", "n"),
    ("Status", ""),
    ("Last synchronised", ""),
)


def status_class(status):
    """CSS class of a token status cell: nothing for a valid token, a warning colour or a critical one."""
    if status not in TOKEN_ALERT_STATUSES:
        return "status"
    return "status warning" if status == "expiring" else "status critical"


def render_token_table(tokens):
    rows = "".join(
        '<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td class="n">%s</td><td class="%s">%s</td><td>%s</td></tr>'
        % (
            html_text(token["name"]),
            html_text(token["token_type"]),
            html_text(token["location_name"] or token["org_name"]),
            html_text((token["expires_at"] or "")[:10]),
            html_text(token["days_left"]),
            status_class(token["status"]),
            html_text(token["status"]),
            html_text(format_time(token["last_sync_at"])),
        )
        for token in tokens
    )
    return '<table id="tokens">%s<tbody>%s</tbody></table>' % (table_head(TOKEN_TABLE_HEADER), rows)


def render_html(report):
    """A self-contained HTML page: summary, alerts, the bar chart (inline SVG), the app table and the token table.

    No script, no external asset: it reads the same in any browser, from a file, a mail attachment or a share.
    """
    title = html_text(report["title"])
    apps = report["apps"]
    chart = render_chart(apps) if apps else '<p class="muted">No app or book is licensed.</p>'
    return "".join(
        (
            "<!DOCTYPE html>\n",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            "<title>%s</title><style>%s</style></head>\n" % (title, STYLE),
            "<body><main>\n<h1>%s</h1>\n" % title,
            '<p class="asof">Data as of %s (the last synchronisation with Apple).</p>\n'
            % html_text(format_time(report["as_of"])),
            render_cards(report["summary"], len(report["alerts"])),
            "\n<h2>Alerts</h2>\n",
            render_alerts(report["alerts"], report["rules"]),
            "\n<h2>Licenses used and available</h2>\n",
            '<div class="panel">%s%s</div>' % (render_legend(), chart),
            "\n<h2>Apps and books</h2>\n",
            render_app_table(apps),
            "\n<h2>Tokens</h2>\n",
            render_token_table(report["tokens"]),
            "\n<footer>Written by the mdm.vpp collection (role mdm.vpp.vpp_report). Used = assigned licenses; "
            "deployed = licenses held by this collection's install deployments.</footer>\n",
            "</main></body></html>\n",
        )
    )
