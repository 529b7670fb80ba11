# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure decisions of vpp_audit_info: ``since``, ``limit``, the entries and their summaries."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.audit_facts import (
    HIDDEN,
    check_limit,
    entry_view,
    parse_since,
)
from ansible_collections.mdm.vpp.plugins.module_utils.errors import ConfigurationError
from ansible_collections.mdm.vpp.plugins.module_utils.timestamps import UTC

NOW = datetime.datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("24h", NOW - datetime.timedelta(hours=24)),
        ("7d", NOW - datetime.timedelta(days=7)),
        (" 30M ", NOW - datetime.timedelta(minutes=30)),
        ("2w", NOW - datetime.timedelta(weeks=2)),
        ("2026-11-20", datetime.datetime(2026, 11, 20, tzinfo=UTC)),
        ("2026-11-20T09:30:00Z", datetime.datetime(2026, 11, 20, 9, 30, tzinfo=UTC)),
        ("2026-11-20T10:30:00+01:00", datetime.datetime(2026, 11, 20, 9, 30, tzinfo=UTC)),
        (None, None),
    ],
)
def test_since_is_a_date_a_time_or_an_age(value, expected):
    assert parse_since(value, NOW) == expected


@pytest.mark.parametrize("value", ["yesterday", "7 days", "-3d", "2026-13-01", "d7"])
def test_a_malformed_since_says_what_is_accepted(value):
    with pytest.raises(ConfigurationError) as caught:
        parse_since(value, NOW)
    assert str(caught.value).startswith("since %r is neither an ISO 8601 date or date/time nor an age" % value)
    assert "24h, 7d" in caught.value.hint


def test_limit_is_one_or_more():
    assert check_limit(1) == 1
    with pytest.raises(ConfigurationError, match="limit must be 1 or more entries, got 0"):
        check_limit(0)


def row(kind, origin="apple", before=None, after=None, target=("device", "C02XK0AAJG5H"), **fields):
    """A row as ``store.list_audit()`` yields it."""
    values = {"recorded_at": "2026-11-25T08:00:00+00:00", "token": "hq", "kind": kind, "origin": origin,
              "run_id": "r-1", "adam_id": "1", "pricing_param": "STDQ", "app": "Pages", "target_kind": target[0],
              "target_id": target[1], "before": before, "after": after}  # fmt: skip
    values.update(fields)
    return values


COUNTS = {"total_count": 50, "assigned_count": 12, "available_count": 38, "retired_count": 0}


@pytest.mark.parametrize(
    ("entry", "summary", "who"),
    [
        (row("assignment_added", origin="local"), "license assigned to device C02XK0AAJG5H", "mdm.vpp"),
        (row("assignment_removed", target=("user", "u-1")), "license taken back from user u-1",
         "Apple (found by a sync)"),
        (row("asset_count_changed", before=COUNTS, after=dict(COUNTS, total_count=60, available_count=48),
             target=(None, None)), "licenses total 50 -> 60, available 38 -> 48", "Apple (found by a sync)"),
        (row("asset_count_changed", after=COUNTS, target=(None, None)),
         "new app, licenses total 50, assigned 12, available 38, retired 0", "Apple (found by a sync)"),
        (row("asset_count_changed", before=COUNTS, target=(None, None)),
         "app gone, licenses total 50, assigned 12, available 38, retired 0", "Apple (found by a sync)"),
        (row("user_added", after={"status": "Registered"}, target=("user", "u-3")), "user u-3 registered (Registered)",
         "Apple (found by a sync)"),
        (row("user_changed", before={"status": "Registered", "email": "a@x"},
             after={"status": "Associated", "email": "a@x"}, target=("user", "u-3")),
         "user u-3 changed: status Registered -> Associated", "Apple (found by a sync)"),
        (row("user_removed", before={"status": "Associated"}, target=("user", "u-3")), "user u-3 removed",
         "Apple (found by a sync)"),
    ],
)  # fmt: skip
def test_each_entry_says_what_changed_and_who(entry, summary, who):
    view = entry_view(entry)
    assert (view["summary"], view["who"]) == (summary, who)
    assert (view["token"], view["app"], view["run_id"], view["kind"]) == ("hq", "Pages", "r-1", entry["kind"])


def test_an_invitation_code_is_never_shown():
    entry = row("user_changed", before={"status": "Registered", "invite_code": "abc-secret"},
                after={"status": "Registered", "invite_code": "def-secret"}, target=("user", "u-3"))  # fmt: skip
    view = entry_view(entry)
    assert view["before"]["invite_code"] == view["after"]["invite_code"] == HIDDEN
    assert view["summary"] == "user u-3 changed: invite_code changed"
    assert "secret" not in repr(view)
    assert entry_view(row("user_added", after={"status": "Registered", "invite_code": None}))["after"] == {
        "status": "Registered", "invite_code": None,
    }  # fmt: skip
