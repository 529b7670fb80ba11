# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Store contract: the joined asset listing behind the app reports, and renaming applications."""

from __future__ import annotations

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.errors import StoreError

TOKEN = "school"


@pytest.fixture
def two_tokens(registered, content_token):
    """``school`` with Pages (STDQ and PLUS) and a book; ``hq`` with Pages; metadata for Pages only."""
    registered.upsert_token("hq", content_token(secret="another-secret"), token_type="business")
    registered.replace_assets(TOKEN, [
        {"adam_id": "1", "pricing_param": "STDQ", "product_type": "App", "total_count": 10, "assigned_count": 4,
         "available_count": 6, "device_assignable": True, "revocable": True, "platforms": ["iOS"]},
        {"adam_id": "1", "pricing_param": "PLUS", "product_type": "App", "total_count": 2, "available_count": 2},
        {"adam_id": "7", "product_type": "Book", "total_count": 5, "available_count": 5, "platforms": ["iOS"]},
    ])  # fmt: skip
    registered.replace_assets("hq", [{"adam_id": "1", "product_type": "App", "total_count": 3}])
    registered.put_metadata([{"adam_id": "1", "name": "Pages", "bundle_id": "com.apple.pages", "version": "14"}])
    return registered


def listed(store, **filters):
    return [(row["token"], row["adam_id"], row["pricing_param"]) for row in store.iter_licensed_assets(**filters)]


def test_rows_join_token_metadata_and_application(two_tokens):
    two_tokens.upsert_application("pages-school", token=TOKEN, adam_id="1")
    rows = {(r["token"], r["adam_id"], r["pricing_param"]): r for r in two_tokens.iter_licensed_assets()}

    pages = rows[(TOKEN, "1", "STDQ")]
    assert (pages["name"], pages["bundle_id"], pages["version"], pages["token_type"]) == (
        "Pages", "com.apple.pages", "14", "education",
    )  # fmt: skip
    assert (pages["total_count"], pages["assigned_count"], pages["available_count"]) == (10, 4, 6)
    assert pages["device_assignable"] is True and pages["platforms"] == ["iOS"]
    assert (pages["application"], pages["deployed"]) == ("pages-school", 0)
    book = rows[(TOKEN, "7", "STDQ")]
    assert (book["name"], book["bundle_id"], book["application"]) == (None, None, None)
    assert rows[("hq", "1", "STDQ")]["application"] is None  # the same app through another token


def test_rows_are_sorted_by_token_then_name_and_filtered(two_tokens):
    # by token, then app name (the book has none: its adamId sorts it), then pricing param
    assert listed(two_tokens) == [("hq", "1", "STDQ"), (TOKEN, "7", "STDQ"), (TOKEN, "1", "PLUS"),
                                  (TOKEN, "1", "STDQ")]  # fmt: skip
    assert listed(two_tokens, tokens=[TOKEN], product_type="App") == [(TOKEN, "1", "PLUS"), (TOKEN, "1", "STDQ")]
    assert listed(two_tokens, adam_id="1", pricing_param="STDQ") == [("hq", "1", "STDQ"), (TOKEN, "1", "STDQ")]
    assert listed(two_tokens, tokens=[]) == [] and listed(two_tokens, tokens=["ghost"]) == []


def test_deployed_counts_licensed_members_of_install_deployments_only(two_tokens):
    two_tokens.upsert_application("pages-school", token=TOKEN, adam_id="1")
    for name, action in (("install", "install"), ("reclaim", "uninstall")):
        two_tokens.upsert_deployment(name, application="pages-school", collection_name="c", collection_type="device",
                                     action=action, purpose="required")  # fmt: skip
    two_tokens.upsert_members("install", [
        {"member_id": "S1", "license_type": "device", "state": "licensed"},
        {"member_id": "S2", "license_type": "device", "state": "licensed"},
        {"member_id": "S3", "license_type": "device", "state": "failed"},
        {"member_id": "S4", "license_type": "device", "state": "licensed"},  # its license was taken back since
    ])  # fmt: skip
    two_tokens.upsert_members("reclaim", [{"member_id": "S9", "license_type": "device", "state": "licensed"}])
    for serial in ("S1", "S2", "S3", "S9"):
        two_tokens.record_assignment(TOKEN, "1", "STDQ", "device", serial)

    row = next(two_tokens.iter_licensed_assets(tokens=[TOKEN], adam_id="1", pricing_param="STDQ"))
    assert row["deployed"] == 2 == two_tokens.deployed_count(TOKEN, "1")


def test_rename_application_keeps_identity_and_deployments(two_tokens):
    two_tokens.upsert_application("pages", token=TOKEN, adam_id="1", description="Word processor")
    two_tokens.upsert_application("pages-plus", token=TOKEN, adam_id="1", pricing_param="PLUS")
    two_tokens.upsert_deployment("d", application="pages", collection_name="c", collection_type="user",
                                 action="install", purpose="required")  # fmt: skip

    renamed = two_tokens.rename_application("pages", "Pages (school)")

    assert (renamed["name"], renamed["adam_id"], renamed["description"]) == ("Pages (school)", "1", "Word processor")
    assert two_tokens.get_application("pages") is None
    assert two_tokens.get_deployment("d")["application"] == "Pages (school)"
    with pytest.raises(StoreError, match="taken by another application"):
        two_tokens.rename_application("Pages (school)", "pages-plus")
    with pytest.raises(StoreError, match="does not exist"):
        two_tokens.rename_application("ghost", "anything")
