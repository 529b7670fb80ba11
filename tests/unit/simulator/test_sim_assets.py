# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""GET /assets filters, unlimited assets and page-index pagination (reference §6.1, §7, §16.6, §16.8)."""

from __future__ import annotations

import pytest
import requests

from tests.simulator.testing import Api, assert_error

UNLIMITED = 2147483647


def adam_ids(body):
    return [asset["adamId"] for asset in body["assets"]]


def test_assets_carry_counts_and_flags(hq):
    pages = {asset["adamId"]: asset for asset in hq.ok("GET", "/assets")["assets"]}
    assert pages["1000000001"] == {
        "adamId": "1000000001",
        "pricingParam": "STDQ",
        "productType": "App",
        "assignedCount": 2,
        "availableCount": 48,
        "retiredCount": 0,
        "totalCount": 50,
        "deviceAssignable": True,
        "revocable": True,
        "supportedPlatforms": ["iOS", "macOS"],
    }
    book = pages["2000000001"]
    assert (book["productType"], book["deviceAssignable"], book["revocable"]) == ("Book", False, False)


def test_asset_metadata_is_not_in_assets(hq):
    asset = hq.ok("GET", "/assets", adamId="1000000001")["assets"][0]
    assert "name" not in asset and "bundleId" not in asset


def test_unlimited_assets_mixed_in_with_sentinel_when_parameter_omitted(hq):
    body = hq.ok("GET", "/assets", adamId="1000000009")
    assert body["assets"][0]["totalCount"] == UNLIMITED
    assert "unlimitedAssets" not in body


def test_unlimited_true_lists_them_separately(hq):
    body = hq.ok("GET", "/assets", unlimited="true")
    assert "1000000009" not in adam_ids(body)
    [free] = body["unlimitedAssets"]
    assert free["adamId"] == "1000000009" and free["assignedCount"] == 0
    assert not {"availableCount", "totalCount", "retiredCount"} & set(free)
    assert body["size"] == 4


def test_unlimited_false_excludes_them(hq):
    body = hq.ok("GET", "/assets", unlimited="false")
    assert "1000000009" not in adam_ids(body) and "unlimitedAssets" not in body


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"adamId": "2000000001"}, ["2000000001"]),
        ({"productType": "Book"}, ["2000000001"]),
        ({"pricingParam": "PLUS"}, []),
        ({"revocable": "false"}, ["2000000001"]),
        ({"deviceAssignable": "false"}, ["2000000001"]),
        ({"minAssignedCount": "1", "unlimited": "false"}, ["1000000001", "2000000001"]),
        ({"maxAssignedCount": "0", "unlimited": "false"}, ["1000000002"]),
        ({"minAvailableCount": "20", "unlimited": "false"}, ["1000000001"]),
        ({"maxAvailableCount": "3"}, ["1000000002"]),
    ],
)
def test_asset_filters(hq, params, expected):
    assert adam_ids(hq.ok("GET", "/assets", **params)) == expected


@pytest.mark.parametrize("params", [{"productType": "Movie"}, {"revocable": "yes"}, {"minAvailableCount": "x"}])
def test_bad_filter_values_are_9602(hq, params):
    assert_error(hq.get("/assets", **params), 400, 9602)


def test_assets_ignore_since_version_id(hq):
    assert len(hq.ok("GET", "/assets", sinceVersionId="not-a-version")["assets"]) == 4


def test_pagination_fields(simulator, hq):
    simulator.configure(page_size=3)
    first = hq.ok("GET", "/assets")
    assert (first["currentPageIndex"], first["size"], first["totalPages"], first["nextPageIndex"]) == (0, 3, 2, 1)
    last = hq.ok("GET", "/assets", pageIndex=1)
    assert (last["currentPageIndex"], last["size"], last["totalPages"]) == (1, 1, 2)
    assert "nextPageIndex" not in last
    assert len(set(adam_ids(first) + adam_ids(last))) == 4


def test_page_index_out_of_range_is_9650(hq):
    assert_error(hq.get("/assets", pageIndex=1), 400, 9650)
    assert_error(hq.get("/assets", pageIndex=-1), 400, 9650)


def test_empty_result_is_one_empty_page(hq):
    body = hq.ok("GET", "/assets", adamId="42")
    assert (body["assets"], body["size"], body["totalPages"], body["currentPageIndex"]) == ([], 0, 1, 0)
    assert "nextPageIndex" not in body


def test_assets_are_scoped_to_the_token_location(simulator):
    school = Api(simulator, simulator.tokens["school-east"]).ok("GET", "/assets")
    assert adam_ids(school) == ["1000000001"] and school["assets"][0]["totalCount"] == 10


def test_purchase_and_refund_change_counts_and_version(simulator, hq):
    before = hq.ok("GET", "/assets", adamId="1000000002")
    simulator.purchase("business-hq", "1000000002", 5)
    after = hq.ok("GET", "/assets", adamId="1000000002")
    assert after["assets"][0]["totalCount"] == 8 and after["assets"][0]["availableCount"] == 8
    assert after["versionId"] != before["versionId"]
    simulator.purchase("business-hq", "1000000002", -2)
    assert hq.ok("GET", "/assets", adamId="1000000002")["assets"][0]["totalCount"] == 6


def test_transfer_moves_licenses_between_locations(simulator, hq):
    simulator.transfer("business-hq", "school-east", "1000000002", 2)
    assert hq.ok("GET", "/assets", adamId="1000000002")["assets"][0]["totalCount"] == 1
    school = Api(simulator, simulator.tokens["school-east"]).ok("GET", "/assets", adamId="1000000002")
    assert school["assets"][0]["totalCount"] == 2


def test_metadata_lookup_serves_names_and_bundle_ids(simulator):
    lookup = requests.get(
        simulator.root_url + "/_meta/lookup",
        params={"id": "1000000001,2000000001,42", "platform": "enterprisestore"},
        cookies={"itvt": simulator.tokens["business-hq"]},
        timeout=5,
    )
    results = lookup.json()["results"]
    assert set(results) == {"1000000001", "2000000001"}
    assert results["1000000001"]["name"] == "Pages" and results["1000000001"]["bundleId"] == "com.apple.iwork.pages"
    assert results["1000000001"]["offers"][0]["version"]["display"] == "14.1"
    assert "{w}x{h}" in results["1000000001"]["artwork"]["url"]
    assert results["2000000001"]["kind"] == "ebook"
