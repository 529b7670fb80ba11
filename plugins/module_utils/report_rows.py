# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rows of the license report: an app or a token reduced to the report's fields, and the words its renderings share.

Pure functions, no clock: the same data gives the same rows and the same text.
"""

from __future__ import annotations

from ansible_collections.mdm.vpp.plugins.module_utils.timestamps import UTC, parse_timestamp

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
    "installed",
    "percent_used",
    "unlimited",
    "low",
)
TOKEN_COLUMNS = ("name", "token_type", "location_name", "org_name", "expires_at", "days_left", "status", "last_sync_at")
# Token statuses of vpp_token_info that need a person; "expiring" is within the report's expiry window.
TOKEN_ALERT_STATUSES = ("expiring", "expired", "revoked", "invalid", "claimed_elsewhere")

LOW_ADVICE = "buy more licenses or reclaim unused ones"
# The fields of each entry of the "Last changes" section (vpp_audit_info's entries reduced), in this order.
CHANGE_COLUMNS = ("recorded_at", "token", "app", "summary", "who")


def app_row(app):
    """One app of ``vpp_app_info`` reduced to the report's fields (``APP_COLUMNS``), numbers as ints."""
    row = {column: app.get(column) for column in APP_COLUMNS}
    for column in ("total", "assigned", "available", "deployed", "installed"):
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


def change_row(entry):
    """One entry of ``vpp_audit_info`` reduced to the report's fields (``CHANGE_COLUMNS``); ``app`` is its name, the
    adamId while the name is not known, or None for a change of a user."""
    row = {column: entry.get(column) for column in CHANGE_COLUMNS}
    if not row["app"] and entry.get("adam_id"):
        row["app"] = "adamId %s" % entry["adam_id"]
    return row


def format_time(value):
    """``2026-11-25T08:03:41+00:00`` -> ``2026-11-25 08:03 UTC``."""
    return parse_timestamp(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if value else "never"


def count_text(row, column):
    """A count for people: thousands separated, "unlimited" for the total and available of a free app."""
    if row["unlimited"] and column in ("total", "available"):
        return "unlimited"
    return f"{row[column]:,}"


def percent_text(row):
    return "-" if row["unlimited"] else "%.1f%%" % row["percent_used"]


def truncate(text, limit):
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
