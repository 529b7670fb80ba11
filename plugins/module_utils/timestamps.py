# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Time, one way: aware UTC datetimes in code, ISO 8601 UTC text (whole seconds) in the store and in results."""

from __future__ import annotations

from datetime import datetime, timezone

# datetime.UTC is Python 3.11+; timezone.utc is the same object and works on every Python the collection supports.
UTC = timezone.utc


def utc_now():
    """Now, as an aware UTC datetime."""
    return datetime.now(UTC)


def to_timestamp(value):
    """A datetime (aware, or naive meaning UTC) or an ISO text as the store's ISO 8601 UTC text; None stays None."""
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="seconds")


def now_timestamp():
    """Now as the store's ISO 8601 UTC text."""
    return to_timestamp(utc_now())


def parse_timestamp(value):
    """An ISO 8601 text (or a datetime) as an aware UTC datetime (naive means UTC); None stays None.

    A trailing ``Z`` (Apple's spelling) is read as UTC: Python before 3.11 does not accept it.
    """
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(_with_offset(str(value)))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _with_offset(text):
    return text[:-1] + "+00:00" if text.endswith("Z") else text
