# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure facts of the audit trail (``vpp_audit_info``, the report's "Last changes"): ``since``, entries, summaries.

No store, no client, no clock of its own: ``parse_since`` is given "now".
"""

from __future__ import annotations

import datetime
import re

from ansible_collections.mdm.vpp.plugins.module_utils.errors import ConfigurationError
from ansible_collections.mdm.vpp.plugins.module_utils.timestamps import UTC, parse_timestamp

# A relative ``since``: a number and a unit (minutes, hours, days, weeks), e.g. 24h or 7d.
RELATIVE_SINCE = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$", re.IGNORECASE)
SINCE_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
# Who made a change an entry records: Apple's data as a sync found it, or this collection's own write.
ORIGINS = {"apple": "Apple (found by a sync)", "local": "mdm.vpp"}
# Fields of a user's audit entry that are not shown: the invitation code lets whoever has it claim the licenses.
HIDDEN_FIELDS = ("invite_code",)
HIDDEN = "(hidden)"
COUNT_LABELS = (
    ("total_count", "total"),
    ("assigned_count", "assigned"),
    ("available_count", "available"),
    ("retired_count", "retired"),
)
ENTRY_FIELDS = (
    "recorded_at",
    "token",
    "kind",
    "origin",
    "run_id",
    "adam_id",
    "pricing_param",
    "app",
    "target_kind",
    "target_id",
    "before",
    "after",
)


def parse_since(value, now):
    """``since`` as an aware UTC datetime: an ISO 8601 date or date/time, or an age before ``now`` (``24h``, ``7d``).

    None stays None; anything else is refused with what is accepted.
    """
    if value is None:
        return None
    text = str(value).strip()
    relative = RELATIVE_SINCE.match(text)
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2).lower()
        return now - datetime.timedelta(**{SINCE_UNITS[unit]: amount})
    try:
        moment = parse_timestamp(text)
    except ValueError:
        raise ConfigurationError(
            "since %r is neither an ISO 8601 date or date/time nor an age" % (value,),
            hint='give a date (2026-11-25), a date and time ("2026-11-25T08:00:00Z", UTC unless an offset is given) '
            "or an age such as 30m, 24h, 7d or 2w",
        ) from None
    return moment.astimezone(UTC)


def check_limit(value):
    """``limit``: 1 or more entries."""
    if value < 1:
        raise ConfigurationError(
            "limit must be 1 or more entries, got %d" % value,
            hint="the newest entries come first; narrow the trail with since, tokens, adam_id, member or kinds",
        )
    return value


def shown(state):
    """An entry's ``before`` or ``after`` with the hidden fields masked (None stays None)."""
    if not isinstance(state, dict):
        return state
    return {name: (HIDDEN if name in HIDDEN_FIELDS and value is not None else value) for name, value in state.items()}


def target_text(entry):
    return "%s %s" % (entry["target_kind"], entry["target_id"])


def count_changes(before, after):
    """``total 50 -> 60, available 38 -> 48``: the counts that moved (all of them for an asset added or removed)."""
    parts = []
    for field, label in COUNT_LABELS:
        old, new = (before or {}).get(field), (after or {}).get(field)
        if before is None:
            parts.append("%s %s" % (label, new))
        elif after is None:
            parts.append("%s %s" % (label, old))
        elif old != new:
            parts.append("%s %s -> %s" % (label, old, new))
    return ", ".join(parts)


def user_changes(before, after):
    """``status Registered -> Associated``: the fields that moved; a hidden one only says that it changed."""
    before, after = before or {}, after or {}
    moved = [name for name in sorted(set(before) | set(after)) if before.get(name) != after.get(name)]
    return ", ".join(
        "%s changed" % name if name in HIDDEN_FIELDS else "%s %s -> %s" % (name, before.get(name), after.get(name))
        for name in moved
    )


def change_summary(entry):
    """What an entry changed, in words: ``license assigned to device C02XK0AAJG5H``, ``total 50 -> 60``."""
    kind, before, after = entry["kind"], entry["before"], entry["after"]
    if kind == "assignment_added":
        return "license assigned to %s" % target_text(entry)
    if kind == "assignment_removed":
        return "license taken back from %s" % target_text(entry)
    if kind == "asset_count_changed":
        what = "new app, licenses " if before is None else "app gone, licenses " if after is None else "licenses "
        return what + count_changes(before, after)
    if kind == "user_added":
        return "user %s registered (%s)" % (entry["target_id"], (after or {}).get("status"))
    if kind == "user_removed":
        return "user %s removed" % entry["target_id"]
    return "user %s changed: %s" % (entry["target_id"], user_changes(before, after))


def entry_view(row):
    """A row of ``store.list_audit()`` as an entry of ``vpp_audit_info``: its fields, who, and what it changed."""
    entry = {field: row.get(field) for field in ENTRY_FIELDS}
    summary = change_summary(entry)  # on the stored values: it names a hidden field, never its value
    entry["before"], entry["after"] = shown(row.get("before")), shown(row.get("after"))
    entry["who"] = ORIGINS.get(entry["origin"], entry["origin"])
    entry["summary"] = summary
    return entry
