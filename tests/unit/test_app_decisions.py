# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure decisions of vpp_app and vpp_app_info: thresholds, app rows, filters, name lookup, changes."""

from __future__ import annotations

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.apps import (
    APP_FIELDS,
    app_facts,
    app_filter,
    application_view,
    apply_query,
    check_holders_limit,
    check_name_free,
    compile_query,
    default_application_name,
    default_pricing_param,
    deployments_block_removal,
    desired_application,
    group_holders,
    is_low,
    not_licensed_error,
    parse_threshold,
    percent_used,
    pick_by_name,
    untracked_count,
    with_holders,
)
from ansible_collections.mdm.vpp.plugins.module_utils.errors import ConfigurationError
from ansible_collections.mdm.vpp.plugins.module_utils.sync import UNLIMITED_TOTAL_COUNT


def store_row(**fields):
    """A row as ``store.iter_licensed_assets()`` yields it."""
    row = {"token": "hq", "token_type": "business", "adam_id": "1", "pricing_param": "STDQ", "product_type": "App",
           "total_count": 50, "assigned_count": 12, "available_count": 38, "retired_count": 0,
           "device_assignable": True, "revocable": True, "platforms": ["iOS", "macOS"], "unlimited": False,
           "updated_at": "2026-11-25T08:00:00+00:00", "name": "Pages", "bundle_id": "com.apple.Pages",
           "version": "14.1", "icon_url": None, "application": None, "deployed": 0}  # fmt: skip
    row.update(fields)
    return row


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), (5, (5.0, False)), ("5", (5.0, False)), ("10%", (10.0, True)), (" 12.5 % ", (12.5, True)),
     (0, (0.0, False)), ("100%", (100.0, True))],
)  # fmt: skip
def test_threshold_is_a_number_or_a_percentage(value, expected):
    assert parse_threshold(value) == expected


@pytest.mark.parametrize("value", ["ten", "%", "5 licenses", -1, "-5%", "101%", True, [5]])
def test_threshold_refuses_anything_else(value):
    with pytest.raises(ConfigurationError, match="low_license_threshold"):
        parse_threshold(value)


@pytest.mark.parametrize(
    ("available", "total", "unlimited", "threshold", "low"),
    [
        (4, 50, False, (5.0, False), True),  # 4 < 5
        (5, 50, False, (5.0, False), False),  # not below
        (4, 50, False, (10.0, True), True),  # 4 < 10% of 50
        (5, 50, False, (10.0, True), False),
        (0, 3, False, (10.0, True), True),  # 10% of 3 is 0.3: none left is low
        (0, 0, False, (10.0, True), True),  # nothing at all is low too
        (0, 0, False, (0.0, False), False),  # a zero threshold never reports low
        (0, 0, False, None, False),  # no threshold, no low
        (0, UNLIMITED_TOTAL_COUNT, True, (5.0, False), False),  # unlimited apps never run out
    ],
)
def test_low_means_available_below_the_threshold(available, total, unlimited, threshold, low):
    assert is_low(available, total, unlimited, threshold) is low


def test_percent_used_has_one_decimal_and_survives_no_licenses():
    assert percent_used(1, 3) == 33.3
    assert percent_used(0, 0) == 0.0
    assert percent_used(12, 50) == 24.0


def test_app_facts_shape_a_store_row():
    facts = app_facts(store_row(available_count=4, application="Pages (hq)", deployed=3), (5, False))
    assert tuple(facts) == APP_FIELDS
    assert (facts["total"], facts["assigned"], facts["available"], facts["deployed"]) == (50, 12, 4, 3)
    assert facts["untracked"] == 9  # 12 assigned at Apple, 3 of them by this collection's deployments
    assert (facts["application"], facts["percent_used"], facts["low"]) == ("Pages (hq)", 24.0, True)
    assert app_facts(store_row())["low"] is False  # no threshold


def test_untracked_is_what_apple_assigned_beyond_this_collections_deployments():
    assert untracked_count(12, 3) == 9
    assert untracked_count(3, 3) == 0
    # a deployment recorded as licensed that a sync has not yet seen at Apple never makes it negative
    assert untracked_count(2, 3) == 0
    assert untracked_count(None, None) == 0


def test_filter_matches_name_or_bundle_id_case_insensitively_and_platform():
    pages = app_facts(store_row())
    book = app_facts(store_row(name=None, bundle_id=None, platforms=["iOS"]))
    assert app_filter(name="pag*")(pages) and app_filter(name="COM.APPLE.*")(pages)
    assert not app_filter(name="key*")(pages)
    assert not app_filter(name="*")(book)  # nothing known to match on
    assert app_filter(platform="macos")(pages) and not app_filter(platform="macOS")(book)
    assert app_filter()(book)


def test_query_is_compiled_first_and_shapes_the_list():
    apps = [app_facts(store_row()), app_facts(store_row(adam_id="2", name="Keynote", available_count=1))]
    assert apply_query(compile_query("[?available < `5`].name"), apps) == ["Keynote"]
    assert apply_query(None, apps) is apps
    with pytest.raises(ConfigurationError, match="not a valid JMESPath expression"):
        compile_query("[?available <")
    with pytest.raises(ConfigurationError, match="failed on the list of apps"):
        apply_query(compile_query("sort_by(@, &icon_url)"), apps)  # nulls cannot be sorted


def test_defaults_pricing_param_and_application_name():
    assert default_pricing_param(["PLUS"]) == "PLUS"
    assert default_pricing_param(["STDQ", "PLUS"]) == "STDQ"
    assert default_pricing_param([]) == "STDQ"
    assert default_application_name("Pages", "1", "hq") == "Pages (hq)"
    assert default_application_name(None, "1", "hq") == "1 (hq)"


def test_pick_by_name_unique_ambiguous_and_unknown():
    rows = [store_row(), store_row(pricing_param="PLUS"), store_row(adam_id="2", name="Keynote")]
    assert pick_by_name("hq", "keynote", rows)["adam_id"] == "2"
    with pytest.raises(ConfigurationError) as ambiguous:
        pick_by_name("hq", "Pages", rows)
    assert 'ambiguous in token \'hq\': "Pages" (adamId 1, STDQ), "Pages" (adamId 1, PLUS)' in str(ambiguous.value)
    assert "give adam_id" in str(ambiguous.value)
    with pytest.raises(ConfigurationError) as unknown:
        pick_by_name("hq", "Keynot", rows)
    assert "licenses no app named 'Keynot'; similar names: \"Keynote\" (adamId 2, STDQ)" in str(unknown.value)
    with pytest.raises(ConfigurationError, match="licenses no app named 'Numbers': check the name"):
        pick_by_name("hq", "Numbers", rows)


def test_not_licensed_says_why_and_what_to_do():
    text = str(not_licensed_error("hq", "9", "STDQ", [], never_synced=False))
    assert "token 'hq' does not license app 9 (STDQ): it is not among the apps synced for that token" in text
    assert "run mdm.vpp.vpp_sync for token hq" in text and "check the adamId" in text
    assert "licenses it only as PLUS" in str(not_licensed_error("hq", "9", "STDQ", ["PLUS"], never_synced=False))
    assert "never synchronised" in str(not_licensed_error("hq", "9", "STDQ", [], never_synced=True))


def test_desired_application_keeps_the_name_unless_a_new_one_is_given():
    existing = {"name": "Custom", "description": "old", "categories": []}
    params = {"name": None, "description": None, "categories": None}
    assert desired_application(params, existing, "Pages (hq)") == {"name": "Custom"}
    assert desired_application(params, None, "Pages (hq)") == {"name": "Pages (hq)"}
    asked = dict(params, name="New", description="d", categories=("a",))
    assert desired_application(asked, existing, "x") == {"name": "New", "description": "d", "categories": ["a"]}


def test_a_name_is_free_for_its_own_application_only():
    holder = {"token": "hq", "adam_id": "1", "pricing_param": "STDQ"}
    check_name_free("Pages (hq)", None, ("hq", "1", "STDQ"))
    check_name_free("Pages (hq)", holder, ("hq", "1", "STDQ"))
    with pytest.raises(ConfigurationError, match="already used by the application of app 1 \\(STDQ\\) of token 'hq'"):
        check_name_free("Pages (hq)", holder, ("east", "1", "STDQ"))


def test_application_view_and_removal_refusal():
    row = {"name": "P", "token": "hq", "adam_id": "1", "pricing_param": "STDQ", "description": None,
           "categories": None, "created_at": "t"}  # fmt: skip
    assert application_view(row) == {"name": "P", "token": "hq", "adam_id": "1", "pricing_param": "STDQ",
                                     "description": None, "categories": []}  # fmt: skip
    assert application_view(None) == {}
    text = str(deployments_block_removal("P", [{"name": "ipads"}, {"name": "teachers"}]))
    assert "application 'P' has 2 deployment(s): ipads, teachers" in text
    assert "remove its deployments first" in text and "no license is reclaimed" in text


def holder_row(adam_id="1", kind="device", target="S1", deployment=None, total=1, token="hq"):
    """A row as ``store.iter_license_holders()`` yields it."""
    return {"token": token, "adam_id": adam_id, "pricing_param": "STDQ", "target_kind": kind, "target_id": target,
            "deployment": deployment, "holders_total": total}  # fmt: skip


def test_holders_are_grouped_per_app_and_say_who_gave_each_license():
    grouped = group_holders([
        holder_row(target="S3", total=3),
        holder_row(target="S1", deployment="pages-ipads", total=3),
        holder_row(adam_id="7", kind="user", target="u-1", total=1),
    ])  # fmt: skip
    pages = with_holders(app_facts(store_row(assigned_count=3)), grouped)

    assert pages["holders"] == [
        {"kind": "device", "id": "S3", "deployment": None, "tracked": False},
        {"kind": "device", "id": "S1", "deployment": "pages-ipads", "tracked": True},
    ]
    assert (pages["holders_total"], pages["holders_truncated"]) == (3, True)  # the limit cut one
    book = with_holders(app_facts(store_row(adam_id="7")), grouped)
    assert (len(book["holders"]), book["holders_total"], book["holders_truncated"]) == (1, 1, False)
    nobody = with_holders(app_facts(store_row(adam_id="9")), grouped)
    assert (nobody["holders"], nobody["holders_total"], nobody["holders_truncated"]) == ([], 0, False)
    assert with_holders(app_facts(store_row(token="east")), grouped)["holders"] == []  # another token's Pages


def test_holders_limit_is_zero_or_more():
    assert check_holders_limit(0) == 0 and check_holders_limit(1000) == 1000
    with pytest.raises(ConfigurationError, match="holders_limit must be 0 or more holders per app, got -1"):
        check_holders_limit(-1)
