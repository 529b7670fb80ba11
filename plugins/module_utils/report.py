# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The license report "Apple VPP apps with license counts": its numbers, its alerts and its four renderings.

Input is what the modules return: the ``apps`` of ``mdm.vpp.vpp_app_info`` (whose ``low`` flag already applies the
low-license threshold), the ``tokens`` of ``mdm.vpp.vpp_token_info`` (whose ``status`` already applies the expiry
warning window) and, optionally, the ``entries`` of ``mdm.vpp.vpp_audit_info`` (the "Last changes" section).
``build_report`` turns them into one plain dict; ``render_html``, ``render_csv``, ``render_json``
and ``render_text`` turn that dict into text. This file builds the dict (numbers and alerts); the renderings are
``report_html.py`` (with the chart of ``report_chart.py``) and ``report_text.py``, the rows ``report_rows.py``.

Everything here is a pure function and reads no clock: the same data gives the same bytes, so a role writing the
files with ``ansible.builtin.copy`` reports a change only when the data changed. The report's date is the newest
synchronisation of its tokens ("data as of"), not the time it was written.
"""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils.report_chart import CHART_BAR_WIDTH, bar_widths
from ansible_collections.mdm.vpp.plugins.module_utils.report_html import render_html
from ansible_collections.mdm.vpp.plugins.module_utils.report_rows import (
    APP_COLUMNS,
    LOW_ADVICE,
    TOKEN_ALERT_STATUSES,
    app_row,
    change_row,
    display_name,
    sort_key,
    token_row,
)
from ansible_collections.mdm.vpp.plugins.module_utils.report_text import (
    render_csv,
    render_json,
    render_text,
    spreadsheet_safe,
)
from ansible_collections.mdm.vpp.plugins.module_utils.timestamps import parse_timestamp
from ansible_collections.mdm.vpp.plugins.module_utils.token_facts import portal_name
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import BOOK

# Names the filter and the tests import from here (their home is report_rows, report_chart, report_html, report_text).
__all__ = [
    "APP_COLUMNS",
    "CHART_BAR_WIDTH",
    "DEFAULT_TITLE",
    "bar_widths",
    "build_alerts",
    "build_report",
    "render_csv",
    "render_html",
    "render_json",
    "render_text",
    "spreadsheet_safe",
]

DEFAULT_TITLE = "Apple VPP apps with license counts"


def summarize(rows, tokens):
    """Counts for the report's header; unlimited (free) apps count as apps but not in the license totals."""
    counted = [row for row in rows if not row["unlimited"]]
    return {
        "apps": sum(1 for row in rows if row["product_type"] != BOOK),
        "books": sum(1 for row in rows if row["product_type"] == BOOK),
        "tokens": len(tokens),
        "total": sum(row["total"] for row in counted),
        "assigned": sum(row["assigned"] for row in counted),
        "available": sum(row["available"] for row in counted),
        "deployed": sum(row["deployed"] for row in rows),
        "installed": sum(row["installed"] for row in rows),
        "low": sum(1 for row in rows if row["low"]),
    }


def as_of(tokens):
    """The newest ``last_sync_at`` of the tokens (ISO 8601), or None when none was ever synchronised."""
    stamps = [token["last_sync_at"] for token in tokens if token.get("last_sync_at")]
    return max(stamps, key=parse_timestamp) if stamps else None


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


def build_report(apps, tokens, title=None, low_threshold=None, expiry_days=None, changes=None):
    """The report as one plain dict: ``title``, ``as_of``, ``rules``, ``summary``, ``tokens``, ``apps``, ``alerts``,
    ``changes``.

    ``apps`` and ``tokens`` are the lists vpp_app_info and vpp_token_info return. ``low_threshold`` and
    ``expiry_days`` only describe the rules those modules applied (the report prints them); they decide nothing.
    ``changes`` are the entries of vpp_audit_info, newest first (the "Last changes" section, in their order); None
    (not given) leaves the section out, as before it existed.
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
        "changes": None if changes is None else [change_row(entry) for entry in changes],
    }
