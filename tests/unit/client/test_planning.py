# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure helpers of the client: batching, per-member outcomes, backoff, Retry-After, metadata records."""

from __future__ import annotations

import random
from email.utils import formatdate

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.client import (
    backoff_delay,
    batch_members,
    event_result,
    metadata_record,
    normalize_asset,
    outcomes_for,
    parse_retry_after,
    plan_batches,
    plan_user_batches,
    query_params,
    retry_wait,
)
from ansible_collections.mdm.vpp.plugins.module_utils.errors import ConfigurationError

LIMITS = {"max_assets": 2, "max_client_user_ids": 3, "max_serial_numbers": 2}


def _pairs(batches):
    """Every (adamId, target) pair the batches carry."""
    pairs = []
    for batch in batches:
        for asset in batch["assets"]:
            pairs += [(asset["adamId"], "user", user) for user in batch["client_user_ids"]]
            pairs += [(asset["adamId"], "device", serial) for serial in batch["serial_numbers"]]
    return pairs


class TestPlanBatches:
    def test_every_batch_respects_every_limit(self):
        batches = plan_batches(["1", "2", "3"], ["u%d" % i for i in range(7)], ["s%d" % i for i in range(5)], **LIMITS)
        for batch in batches:
            assert len(batch["assets"]) <= 2
            assert len(batch["client_user_ids"]) <= 3
            assert len(batch["serial_numbers"]) <= 2

    def test_every_pair_is_sent_exactly_once(self):
        users = ["u%d" % i for i in range(7)]
        serials = ["s%d" % i for i in range(5)]
        pairs = _pairs(plan_batches(["1", "2", "3"], users, serials, **LIMITS))
        expected = [(a, "user", u) for a in "123" for u in users] + [(a, "device", s) for a in "123" for s in serials]
        assert sorted(pairs) == sorted(expected)
        assert len(pairs) == len(set(pairs))

    def test_users_and_devices_never_share_a_request(self):
        # Apple refuses a request naming both (Fleet): 2 asset chunks x (ceil(7/3) + ceil(5/2)) = 2 x (3 + 3)
        batches = plan_batches(["1", "2", "3"], ["u%d" % i for i in range(7)], ["s%d" % i for i in range(5)], **LIMITS)
        assert len(batches) == 12
        assert all(not (batch["client_user_ids"] and batch["serial_numbers"]) for batch in batches)
        assert all(batch["client_user_ids"] or batch["serial_numbers"] for batch in batches)

    def test_duplicates_are_removed_before_cutting(self):
        batches = plan_batches(
            ["1", {"adamId": "1", "pricingParam": "STDQ"}, ("1", "STDQ"), {"adam_id": 1}],
            ["a", "b", "a", "b", "a"],
            ["x", "x"],
            **LIMITS,
        )
        assert batches == [
            {"assets": [{"adamId": "1", "pricingParam": "STDQ"}], "client_user_ids": ["a", "b"], "serial_numbers": []},
            {"assets": [{"adamId": "1", "pricingParam": "STDQ"}], "client_user_ids": [], "serial_numbers": ["x"]},
        ]

    def test_pricing_params_are_distinct_assets(self):
        batches = plan_batches([("1", "STDQ"), ("1", "PLUS")], ["a"], (), **LIMITS)
        assert batches[0]["assets"] == [
            {"adamId": "1", "pricingParam": "STDQ"},
            {"adamId": "1", "pricingParam": "PLUS"},
        ]

    def test_nothing_to_do_gives_no_batch(self):
        assert plan_batches(["1"], (), (), **LIMITS) == []
        assert plan_batches((), ["a"], (), **LIMITS) == []

    def test_revoke_batches_carry_no_assets(self):
        batches = plan_batches(
            (), ["a", "b", "c", "d"], ["x"], max_assets=None, max_client_user_ids=3, max_serial_numbers=2
        )
        assert batches == [
            {"assets": [], "client_user_ids": ["a", "b", "c"], "serial_numbers": []},
            {"assets": [], "client_user_ids": ["d"], "serial_numbers": []},
            {"assets": [], "client_user_ids": [], "serial_numbers": ["x"]},
        ]

    def test_user_batches_keep_one_entry_per_client_user_id(self):
        batches = plan_user_batches(
            [{"client_user_id": "a", "email": "a@example.org"}, {"clientUserId": "a", "email": "other@example.org"}]
            + ["u%d" % i for i in range(4)],
            max_users=2,
        )
        assert [len(batch["users"]) for batch in batches] == [2, 2, 1]
        assert batches[0]["users"][0] == {"clientUserId": "a", "email": "a@example.org"}

    def test_asset_without_id_is_refused(self):
        with pytest.raises(ConfigurationError):
            normalize_asset({"pricingParam": "STDQ"})


ASSOCIATE_BATCH = {
    "event_id": "e1",
    "type": "ASSOCIATE",
    "assets": [{"adamId": "1", "pricingParam": "STDQ"}, {"adamId": "2", "pricingParam": "STDQ"}],
    "client_user_ids": ["u1", "u2"],
    "serial_numbers": ["s1"],
    "users": [],
}


def _failed(outcomes):
    return sorted(
        (o.get("adam_id"), o.get("client_user_id") or o.get("serial_number"), o["error_number"])
        for o in outcomes
        if not o["succeeded"]
    )


class TestOutcomes:
    def test_members_are_asset_target_pairs(self):
        assert len(batch_members(ASSOCIATE_BATCH)) == 6

    def test_complete_event_means_every_member_succeeded(self):
        outcomes = outcomes_for(ASSOCIATE_BATCH, {"eventStatus": "COMPLETE", "numRequested": 6, "numCompleted": 6})
        assert all(o["succeeded"] for o in outcomes)

    def test_failures_are_mapped_to_the_named_members(self):
        status = {
            "eventStatus": "FAILED",
            "failures": [
                {
                    "errorNumber": 9709,
                    "errorMessage": "not enough licenses",
                    "errorInfo": {"assets": [{"adamId": "2", "pricingParam": "STDQ"}], "clientUserIds": ["u2"]},
                },
                {"errorNumber": 9609, "errorMessage": "unknown user", "errorInfo": {"clientUserIds": ["u1"]}},
            ],
        }
        assert _failed(outcomes_for(ASSOCIATE_BATCH, status)) == [
            ("1", "u1", 9609),
            ("2", "u1", 9609),
            ("2", "u2", 9709),
        ]

    def test_error_info_without_pricing_param_matches_the_adam_id(self):
        status = {
            "eventStatus": "FAILED",
            "failures": [{"errorNumber": 9709, "errorInfo": {"assets": [{"adamId": "1"}], "serialNumbers": ["s1"]}}],
        }
        assert _failed(outcomes_for(ASSOCIATE_BATCH, status)) == [("1", "s1", 9709)]

    def test_failure_without_detail_fails_every_member(self):
        outcomes = outcomes_for(ASSOCIATE_BATCH, {"eventStatus": "FAILED", "failures": []})
        assert not any(o["succeeded"] for o in outcomes)

    def test_user_event_members_are_users(self):
        batch = {"event_id": "e2", "type": "CREATE", "users": [{"clientUserId": "a"}, {"clientUserId": "b"}]}
        status = {"eventStatus": "FAILED", "failures": [{"errorNumber": 9716, "errorInfo": {"clientUserIds": ["b"]}}]}
        assert _failed(outcomes_for(batch, status)) == [(None, "b", 9716)]

    def test_event_result_carries_counts_and_outcomes(self):
        result = event_result({"eventStatus": "COMPLETE", "eventType": "ASSOCIATE", "numRequested": 6}, ASSOCIATE_BATCH)
        assert result["status"] == "COMPLETE"
        assert result["event_id"] == "e1"
        assert len(result["outcomes"]) == 6


class TestRetryTiming:
    def test_backoff_is_bounded_by_the_cap(self):
        rng = random.Random(7)
        delays = [backoff_delay(attempt, 0.5, 4.0, rng) for attempt in range(20)]
        assert all(0 <= delay <= 4.0 for delay in delays)

    def test_backoff_grows_with_the_attempt(self):
        rng = random.Random(7)
        assert max(backoff_delay(0, 0.5, 100.0, rng) for _sample in range(200)) <= 0.5
        assert max(backoff_delay(4, 0.5, 100.0, rng) for _sample in range(200)) > 0.5

    def test_retry_after_is_a_floor(self):
        assert retry_wait(0, 0.01, 0.02, retry_after=3.0) == 3.0

    def test_retry_after_seconds_and_http_date(self):
        assert parse_retry_after("120") == 120.0
        now = 1_800_000_000.0
        assert parse_retry_after(formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30.0)
        assert parse_retry_after(formatdate(now - 30, usegmt=True), now=now) == 0.0
        assert parse_retry_after("soon") is None
        assert parse_retry_after(None) is None


class TestSmallHelpers:
    def test_query_params_use_apples_spelling(self):
        assert query_params({"since_version_id": "v1", "include_user_state": True, "adamId": "1", "x": None}) == {
            "sinceVersionId": "v1",
            "includeUserState": "true",
            "adamId": "1",
        }

    def test_metadata_record_from_a_lookup_result(self):
        record = metadata_record(
            {
                "name": "Pages",
                "bundleId": "com.apple.Pages",
                "kind": "iosSoftware",
                "deviceFamilies": ["iphone", "ipad"],
                "artwork": {"url": "https://example.invalid/{w}x{h}bb.{f}"},
                "offers": [{"version": {"display": "14.1"}}],
            }
        )
        assert record == {
            "name": "Pages",
            "bundle_id": "com.apple.Pages",
            "version": "14.1",
            "icon_url": "https://example.invalid/512x512bb.png",
            "platforms": ["iphone", "ipad"],
            "kind": "iosSoftware",
        }
