# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A malformed answer from Apple is an error, never data: the checks, and the client retrying them like a 5xx."""

from __future__ import annotations

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.answers import check_event, check_page, check_status, json_object
from ansible_collections.mdm.vpp.plugins.module_utils.errors import MalformedAnswerError, ServiceUnavailableError

from .conftest import BRANCH, HQ, api_requests

ASSET = {"adamId": "1000000001", "pricingParam": "STDQ", "assignedCount": 3, "availableCount": 7,
         "retiredCount": 0, "totalCount": 10}  # fmt: skip


def page(records_key="assignments", records=(), **fields):
    answer = {records_key: list(records), "currentPageIndex": 0, "totalPages": 1, "versionId": "v-1"}
    answer.update(fields)
    return {key: value for key, value in answer.items() if value is not None}


def refusal(answer, keys=("assignments",), index=0, label="GET /assignments"):
    with pytest.raises(MalformedAnswerError) as caught:
        check_page(answer, label, keys, index)
    return caught.value.msg


class TestPageChecks:
    def test_documented_pages_pass(self):
        check_page(page("assets", [ASSET]), "GET /assets", ("assets", "unlimitedAssets"), 0)
        check_page(page("unlimitedAssets", [{"adamId": "1"}]), "GET /assets", ("assets", "unlimitedAssets"), 0)
        check_page(page(records=[{"adamId": "1", "serialNumber": "SN"}], nextPageIndex=1), "GET /assignments",
                   ("assignments",), 0)  # fmt: skip
        check_page(page("users", [{"clientUserId": "u-1", "status": "Registered"}]), "GET /users", ("users",), 0)
        check_page(page(versionId=None, currentPageIndex=2), "GET /assignments", ("assignments",), 2)

    def test_a_page_without_its_list_names_the_endpoint_page_and_key(self):
        answer = page()
        del answer["assignments"]
        message = refusal(answer, index=3)
        assert message == "GET /assignments page 3: Apple's answer has no 'assignments' list"
        assert "'assets' or 'unlimitedAssets'" in refusal(
            page("other"), ("assets", "unlimitedAssets"), label="GET /assets"
        )

    @pytest.mark.parametrize(
        ("fields", "expected"),
        [
            ({"assignments": {"adamId": "1"}}, "'assignments' is a JSON object, not a list"),
            ({"versionId": None}, "no versionId text (got missing)"),
            ({"versionId": 7}, "no versionId text (got int 7)"),
            ({"totalPages": None}, "totalPages is missing, not a page count"),
            ({"totalPages": "2"}, "totalPages is text '2', not a page count"),
            ({"totalPages": -1}, "totalPages is int -1"),
            ({"totalPages": True}, "totalPages is bool True"),
            ({"currentPageIndex": -2}, "currentPageIndex is int -2"),
            ({"nextPageIndex": "1"}, "nextPageIndex is text '1'"),
            ({"nextPageIndex": 0}, "not a page index after 0"),
            ({"assignments": ["x"]}, "assignments[0] is text 'x', not an object"),
            ({"assignments": [{"serialNumber": "SN"}]}, "assignments[0] has no adamId text (got missing)"),
            ({"assignments": [{"adamId": 1000000001}]}, "has no adamId text (got int 1000000001)"),
            ({"assignments": [{"adamId": "1", "serialNumber": 5}]}, "has serialNumber int 5, not text"),
        ],
    )
    def test_malformed_pages_are_refused(self, fields, expected):
        assert expected in refusal(_with(page(), fields))

    @pytest.mark.parametrize(
        ("field", "value", "expected"),
        [
            ("availableCount", -1, "availableCount int -1, not a count of 0 or more"),
            ("totalCount", "10", "totalCount text '10'"),
            ("assignedCount", True, "assignedCount bool True"),
            ("retiredCount", 1.5, "retiredCount float 1.5"),
        ],
    )
    def test_asset_counts_are_whole_numbers_of_zero_or_more(self, field, value, expected):
        message = refusal(page("assets", [ASSET, dict(ASSET, **{field: value})]), ("assets",), label="GET /assets")
        assert message.startswith("GET /assets page 0: assets[1] (adamId 1000000001) has ")
        assert expected in message

    def test_a_user_without_client_user_id_is_refused(self):
        assert "users[0] has no clientUserId text" in refusal(page("users", [{"email": "a@b"}]), ("users",))

    @pytest.mark.parametrize(
        ("record", "expected"),
        [
            ({"adamId": ""}, "assignments[700] has no adamId text (got text '')"),
            ({"adamId": "1", "clientUserId": ["u"]}, "assignments[700] has clientUserId a JSON list, not text"),
            ({"adamId": "1", "pricingParam": False}, "assignments[700] has pricingParam bool False, not text"),
            (None, "assignments[700] is missing, not an object"),
        ],
    )
    def test_one_fault_in_a_full_page_is_named_by_its_position(self, record, expected):
        # a page is checked a field at a time first; a fault anywhere still fails it, and is named exactly
        records = [{"adamId": "1", "serialNumber": "SN%d" % number, "pricingParam": "STDQ"} for number in range(1000)]
        records[700] = record
        assert refusal(page(records=records)) == "GET /assignments page 0: " + expected

    def test_asset_pages_with_valid_counts_of_every_kind_pass(self):
        records = [dict(ASSET, adamId=str(number), retiredCount=None if number % 2 else 0) for number in range(50)]
        check_page(page("assets", records), "GET /assets", ("assets", "unlimitedAssets"), 0)
        records[49] = dict(ASSET, totalCount=-3)
        assert "assets[49] (adamId 1000000001) has totalCount int -3" in refusal(page("assets", records), ("assets",))

    def test_an_assignment_without_target_is_left_to_the_sync(self):
        check_page(page(records=[{"adamId": "1"}]), "GET /assignments", ("assignments",), 0)


def _with(answer, fields):
    """``answer`` with ``fields`` set (a value of None removes the key)."""
    answer = dict(answer, **fields)
    return {key: value for key, value in answer.items() if value is not None}


class TestEventChecks:
    @pytest.mark.parametrize("event_id", [None, "", 42])
    def test_an_event_answer_without_event_id_text_is_malformed(self, event_id):
        with pytest.raises(MalformedAnswerError, match="POST /assets/associate: Apple's answer has no eventId"):
            check_event({"eventId": event_id}, "POST /assets/associate")

    def test_a_status_without_event_status_text_is_malformed(self):
        check_status({"eventStatus": "PENDING"}, "GET /status")
        with pytest.raises(MalformedAnswerError, match="GET /status: .*no eventStatus text"):
            check_status({"eventStatus": 1}, "GET /status")

    def test_a_malformed_answer_is_retried_like_a_5xx(self):
        assert issubclass(MalformedAnswerError, ServiceUnavailableError)


class TestClientRetriesMalformedAnswers:
    def test_a_page_without_its_list_is_retried_then_read(self, sim, make_client):
        sim.configure(page_size=10)
        sim.inject_fault("malformed", count=1, path="/assignments", drop_keys=["assignments"])
        listing = make_client(BRANCH, retries=2, page_concurrency=1).assignments()
        assert len(list(listing)) == 230
        assert [entry["status"] for entry in api_requests(sim, BRANCH, "/assignments")][:2] == [200, 200]
        assert len(api_requests(sim, BRANCH, "/assignments")) == 24  # 23 pages and the malformed one again

    def test_malformed_pages_until_the_retries_are_spent_fail_naming_the_page(self, sim, make_client):
        sim.configure(page_size=10)
        listing = make_client(BRANCH, retries=2, page_concurrency=1).assignments()
        records = iter(listing)
        next(records)  # page 0 read
        sim.inject_fault("malformed", count=5, path="/assignments", drop_keys=["totalPages"])
        with pytest.raises(MalformedAnswerError) as caught:
            list(records)
        assert caught.value.msg == (
            "GET /assignments page 1: Apple's totalPages is missing, not a page count (after 3 attempt(s))"
        )
        assert "nothing was stored" in str(caught.value)

    def test_a_page_zero_without_version_id_is_an_error_not_an_empty_listing(self, sim, make_client):
        sim.inject_fault("malformed", count=5, path="/users", drop_keys=["versionId"])
        with pytest.raises(MalformedAnswerError, match="GET /users page 0: .*no versionId text .*after 2 attempt"):
            list(make_client(HQ, retries=1).users())

    def test_a_negative_count_is_refused(self, sim, make_client):
        body = page("assets", [dict(ASSET, availableCount=-1)])
        sim.inject_fault("malformed", count=2, path="/assets", body=body)
        with pytest.raises(MalformedAnswerError, match="availableCount int -1"):
            list(make_client(HQ, retries=1).assets())

    def test_an_associate_answer_without_event_id_is_retried(self, sim, make_client):
        sim.inject_fault("malformed", count=1, path="/assets/associate", drop_keys=["eventId"])
        batches = make_client(HQ, retries=1).associate(["1000000003"], serial_numbers=["SN-ANSWERS-1"])
        assert batches[0]["event_id"]
        assert len(api_requests(sim, HQ, "/assets/associate", "POST")) == 2


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"x" * 65, "larger than 64 bytes"),  # refused before it is parsed
        (b"{not json", "not JSON"),
        (b"\xff\xfe", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b"null", "not a JSON object"),
    ],
)
def test_a_posted_body_that_is_not_a_bounded_json_object_raises_the_posters_error(body, reason):
    class PosterError(Exception):
        pass

    with pytest.raises(PosterError, match="^%s$" % reason):
        json_object(body, 64, PosterError)


def test_a_posted_json_object_within_the_bound_is_returned():
    assert json_object(b'{"topic": "mdm.Connect"}', 24, ValueError) == {"topic": "mdm.Connect"}
