# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The license report as one self-contained HTML page: summary cards, alerts, the bar chart, the app and token tables.

A pure function of the report dict of build_report: no script, no external asset, the same data gives the same
bytes.
"""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils.report_chart import html_text, render_chart, render_legend
from ansible_collections.mdm.vpp.plugins.module_utils.report_rows import (
    LOW_ADVICE,
    TOKEN_ALERT_STATUSES,
    count_text,
    display_name,
    format_time,
    percent_text,
)
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import BOOK

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


APP_TABLE_HEADER = (
    ("App", ""),
    ("Token", ""),
    ("Type", ""),
    ("Total", "n"),
    ("Assigned", "n"),
    ("Available", "n"),
    ("Deployed", "n"),
    ("Installed", "n"),
    ("Used", "n"),
)


def table_head(columns):
    return "<thead><tr>%s</tr></thead>" % "".join(
        '<th scope="col"%s>%s</th>' % (' class="%s"' % kind if kind else "", label) for label, kind in columns
    )


def app_table_row(row):
    name = html_text(row["name"]) if row["name"] else '<span class="muted">%s</span>' % html_text(display_name(row))
    if row["product_type"] == BOOK:
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
        ("n", count_text(row, "installed")),
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


CHANGE_TABLE_HEADER = (("When", ""), ("Token", ""), ("App", ""), ("What changed", ""), ("Who", ""))


def render_changes(changes):
    """The "Last changes" table (newest first), or a line saying there is none."""
    if not changes:
        return '<p class="muted" id="no-changes">No change recorded.</p>'
    rows = "".join(
        "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>"
        % tuple(
            html_text(value)
            for value in (
                format_time(change["recorded_at"]),
                change["token"],
                change["app"] or "-",
                change["summary"],
                change["who"],
            )
        )
        for change in changes
    )
    return '<table id="changes">%s<tbody>%s</tbody></table>' % (table_head(CHANGE_TABLE_HEADER), rows)


def render_html(report):
    """A self-contained HTML page: summary, alerts, the bar chart (inline SVG), the app and token tables, and the last
    changes when the report has them.

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
            "" if report.get("changes") is None else "\n<h2>Last changes</h2>\n" + render_changes(report["changes"]),
            "\n<footer>Written by the mdm.vpp collection (role mdm.vpp.vpp_report). Used = assigned licenses; "
            "deployed = licenses held by this collection's install deployments; installed = their members whose device "
            "confirmed the app (through the MDM).</footer>\n",
            "</main></body></html>\n",
        )
    )
