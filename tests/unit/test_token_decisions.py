# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure decisions behind vpp_token and vpp_token_info: facts, status, the checks that refuse a token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.apple_classifier import apple_error
from ansible_collections.mdm.vpp.plugins.module_utils.errors import (
    AuthenticationError,
    ConfigurationError,
    RateLimitedError,
    ServiceUnavailableError,
    TakeoverError,
    TokenExpiredError,
    TokenRevokedError,
)
from ansible_collections.mdm.vpp.plugins.module_utils.stoken import parse_content_token
from ansible_collections.mdm.vpp.plugins.module_utils.token_facts import plain_refusal, with_token_context
from ansible_collections.mdm.vpp.plugins.module_utils.tokens import (
    FACT_FIELDS,
    MAX_TOKENS,
    changed_fields,
    check_not_expired,
    check_same_location,
    check_token_limit,
    check_token_type,
    check_unique_location,
    expiry_warning,
    manager_identity,
    other_manager,
    refusal_status,
    reported_fields,
    revoke_failures,
    revoke_plan,
    token_facts,
    token_status,
    token_type_for_website,
    wanted_metadata,
)
from tests.simulator.service import make_stoken

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
OURS = "7f7c0e1e-3a51-4c4e-9d0b-0c2f1c9a1b11"


def stored_row(**fields):
    """A token row as the store returns it."""
    row = {
        "name": "hq",
        "fingerprint": "3f9a1c0d5b7e",
        "description": None,
        "categories": [],
        "apple_id": None,
        "token_type": "business",
        "org_name": "Example Corp",
        "location_name": "Example HQ",
        "uid": "9000000000000001",
        "country": "US",
        "website_url": "https://business.apple.com",
        "default_platform": "enterprisestore",
        "expires_at": (NOW + timedelta(days=200)).isoformat(),
        "status": "active",
        "claimed": True,
        "created_at": "2026-01-01T00:00:00+00:00",
        "updated_at": "2026-01-01T00:00:00+00:00",
        "last_sync_at": None,
        "last_full_sync_at": None,
        "assets_version": "v1",
        "assignments_version": None,
        "users_version": None,
    }
    row.update(fields)
    return row


def in_days(days, hours=0):
    return (NOW + timedelta(days=days, hours=hours)).isoformat()


# --- status and facts ---


@pytest.mark.parametrize(
    ("expires_at", "stored_status", "expected"),
    [
        (in_days(200), "active", "valid"),
        (in_days(31), "active", "valid"),
        (in_days(29, hours=23), "active", "expiring"),
        (in_days(0, hours=1), "active", "expiring"),
        (in_days(0, hours=-1), "active", "expired"),
        (in_days(-30), "revoked", "expired"),  # the date wins: it will never work again
        (in_days(200), "revoked", "revoked"),
        (in_days(5), "claimed_elsewhere", "claimed_elsewhere"),
        (in_days(200), "invalid", "invalid"),
        (None, "active", "valid"),
    ],
)
def test_status_from_expiry_and_what_apple_last_said(expires_at, stored_status, expected):
    assert token_status(stored_row(expires_at=expires_at, status=stored_status), NOW, 30) == expected


def test_warning_window_is_configurable():
    row = stored_row(expires_at=in_days(45))
    assert token_status(row, NOW, 30) == "valid"
    assert token_status(row, NOW, 60) == "expiring"


def test_facts_are_exactly_the_documented_fields_and_never_the_secret():
    row = stored_row(secret="gAAAA-encrypted", categories=None, claimed=0)
    facts = token_facts(row, NOW, 30)
    assert tuple(facts) == FACT_FIELDS
    assert "secret" not in facts and "assets_version" not in facts
    assert facts["categories"] == [] and facts["claimed"] is False
    assert facts["days_left"] == 200
    assert facts["status"] == "valid"


def test_days_left_counts_whole_days_and_goes_negative():
    assert token_facts(stored_row(expires_at=in_days(0, hours=5)), NOW)["days_left"] == 0
    assert token_facts(stored_row(expires_at=in_days(-2, hours=-1)), NOW)["days_left"] == -3


def test_expiry_warning_names_the_date_and_what_to_do():
    facts = token_facts(stored_row(expires_at="2026-12-05T09:15:00+00:00"), NOW, 30)
    message = expiry_warning(facts)
    assert "'hq'" in message and "2026-12-05" in message and "9 day(s)" in message
    assert "Apple Business Manager" in message and "vpp_token" in message
    assert expiry_warning(token_facts(stored_row(), NOW, 30)) is None
    education = token_facts(stored_row(expires_at=in_days(3), token_type="education"), NOW, 30)
    assert "Apple School Manager" in expiry_warning(education)


# --- what Apple reports ---


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://business.apple.com", "business"),
        ("https://school.apple.com/", "education"),
        ("https://SCHOOL.apple.com", "education"),
        ("https://example.org", None),
        (None, None),
    ],
)
def test_token_type_comes_from_the_website_host(url, expected):
    assert token_type_for_website(url) == expected


def test_reported_fields_and_claim_state():
    config = {
        "locationName": "East School",
        "uId": "42",
        "countryISO2ACode": "GB",
        "websiteURL": "https://school.apple.com",
        "defaultPlatform": "volumestore",
        "mdmInfo": {"id": OURS, "name": "mdm.vpp", "metadata": "mdm.vpp 0.1.0"},
    }
    assert reported_fields(config, OURS) == {
        "location_name": "East School",
        "uid": "42",
        "country": "GB",
        "website_url": "https://school.apple.com",
        "default_platform": "volumestore",
        "token_type": "education",
        "claimed": True,
    }
    assert reported_fields(dict(config, mdmInfo={"id": "other"}), OURS)["claimed"] is False
    assert reported_fields({"uId": "42"}, OURS)["claimed"] is False


def test_other_manager_is_named_only_when_the_location_is_not_ours():
    assert other_manager(None, OURS) is None
    assert other_manager({"id": OURS, "name": "mdm.vpp"}, OURS) is None
    assert other_manager({"id": "x-1", "name": "Other MDM"}, OURS) == "Other MDM"
    assert other_manager({"id": "x-1"}, OURS) == "x-1"


def test_manager_identity_fits_apples_mdm_info():
    identity = manager_identity(OURS)
    assert identity == {"id": OURS, "name": "mdm.vpp", "metadata": "mdm.vpp 0.1.0"}


def test_only_set_metadata_is_wanted_and_only_differences_change():
    wanted = wanted_metadata({"description": "new", "categories": ("a", "b"), "apple_id": None})
    assert wanted == {"description": "new", "categories": ["a", "b"]}
    row = stored_row(description="old", categories=["a", "b"])
    assert changed_fields(row, wanted) == {"description": "new"}
    assert changed_fields(stored_row(categories=None), {"categories": []}) == {}
    assert changed_fields({}, {"uid": "42", "country": None}) == {"uid": "42"}


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (TakeoverError("taken"), "claimed_elsewhere"),
        (TokenExpiredError("9621", error_number=9621), "expired"),
        (TokenRevokedError("9625", error_number=9625), "revoked"),
        (AuthenticationError("9601", error_number=9601), "invalid"),
        (ServiceUnavailableError("down"), None),  # says nothing about the token
        (RateLimitedError("slow down"), None),
    ],
)
def test_refusal_status_names_what_apples_refusal_means(error, status):
    assert refusal_status(error) == status


# --- checks ---


def test_a_token_expired_by_its_own_date_is_refused():
    expired = parse_content_token(make_stoken("Example Corp", datetime(2026, 11, 1, tzinfo=UTC)))
    with pytest.raises(TokenExpiredError, match="expired on 2026-11-01") as caught:
        check_not_expired("hq", expired, NOW)
    assert expired.secret not in str(caught.value) and expired.fingerprint in str(caught.value)
    check_not_expired("hq", parse_content_token(make_stoken("Example Corp", NOW + timedelta(minutes=1))), NOW)


def test_the_limit_refuses_the_3001st_token():
    check_token_limit("one-more", MAX_TOKENS - 1)
    with pytest.raises(ConfigurationError, match="already holds 3000 tokens") as caught:
        check_token_limit("one-more", MAX_TOKENS)
    assert "state: absent" in str(caught.value)


def test_declared_token_type_must_match_apple():
    check_token_type("hq", None, "education", "https://school.apple.com")
    check_token_type("hq", "business", "business", "https://business.apple.com")
    with pytest.raises(ConfigurationError, match="declared token_type business, but Apple reports .* education"):
        check_token_type("hq", "business", "education", "https://school.apple.com")


def test_renewal_must_stay_on_the_same_location():
    check_same_location("hq", stored_row(), "9000000000000001")
    with pytest.raises(ConfigurationError, match="belongs to location 77, but 'hq' is registered for location 9"):
        check_same_location("hq", stored_row(), "77")


def test_a_location_registered_under_another_name_is_a_duplicate():
    check_unique_location("hq", "42", [stored_row(name="hq")])
    check_unique_location("hq", "42", [])
    with pytest.raises(ConfigurationError, match="duplicate location: already registered as 'main'") as caught:
        check_unique_location("hq", "42", [stored_row(name="main")])
    assert "name: main" in str(caught.value)


# --- revoke planning ---


def test_revoke_plan_collects_distinct_holders_of_revocable_licenses():
    assignments = [
        {"adamId": "1", "pricingParam": "STDQ", "clientUserId": "u-1"},
        {"adamId": "2", "pricingParam": "STDQ", "clientUserId": "u-1"},
        {"adamId": "1", "pricingParam": "STDQ", "serialNumber": "SN1"},
        {"adamId": "9", "pricingParam": "STDQ", "clientUserId": "u-books-only"},  # a book: not revocable
        {"adamId": "1", "pricingParam": "PLUS", "clientUserId": "u-plus"},  # another pricing: not revocable
    ]
    plan = revoke_plan(assignments, {("1", "STDQ"), ("2", "STDQ")})
    assert plan == {"client_user_ids": ["u-1"], "serial_numbers": ["SN1"], "licenses": 3}
    assert revoke_plan([], {("1", "STDQ")}) == {"client_user_ids": [], "serial_numbers": [], "licenses": 0}


def test_revoke_failures_lists_failed_members_only():
    results = {
        "e1": {"outcomes": [{"client_user_id": "u-1", "succeeded": True}]},
        "e2": {"outcomes": [{"serial_number": "SN1", "succeeded": False, "error_number": 9609}]},
    }
    assert revoke_failures(results) == [{"serial_number": "SN1", "succeeded": False, "error_number": 9609}]


def test_an_expired_token_is_said_once_with_the_request_and_the_numbers():
    apple_text = "The content token has expired. Download a new one from Apple Business or Apple School Manager."
    expired = with_token_context(apple_error("GET /client/config", 9621, apple_text, 401), "school")
    assert str(expired) == (
        "token 'school': GET /client/config: Apple says the content token has expired (error 9621, HTTP 401): "
        "download a new content token from Apple Business or Apple School Manager and run vpp_token again"
    )
    assert str(expired).lower().count("download") == 1 and ".:" not in str(expired)
    assert (expired.error_number, expired.http_status) == (9621, 401)
    revoked = plain_refusal(apple_error("GET /assets", 9625, "The content token has been revoked.", 401))
    assert str(revoked).startswith(
        "GET /assets: Apple refused the request (error 9625, HTTP 401): The content token has been revoked: download"
    )  # Apple's full stop gives way to the hint, never ".:"
    local = TokenExpiredError("the content token given for 'hq' (fingerprint abc) expired on 2026-05-01")
    assert plain_refusal(local).msg == "the content token given for 'hq' (fingerprint abc) expired on 2026-05-01"
