# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The decisions about a token's Apple notification settings: local checks, wanted settings, what to post."""

from __future__ import annotations

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.errors import ConfigurationError
from ansible_collections.mdm.vpp.plugins.module_utils.notification_settings import (
    apple_body,
    apple_view,
    check_auth_token,
    check_notification_url,
    default_types,
    drift_warning,
    offered_types,
    same_stored,
    secret_fingerprint,
    view,
    wanted_settings,
)

URL = "https://events.example.org/apple/hq"
OFFERED = ["ASSET_MANAGEMENT", "USER_MANAGEMENT", "USER_ASSOCIATED", "ASSET_COUNT", "SUBSCRIPTION_COUNT"]
NOTHING = {"url": None, "secret": None, "types": None}
ALL4 = ["ASSET_MANAGEMENT", "ASSET_COUNT", "USER_MANAGEMENT", "USER_ASSOCIATED"]


def generated():
    return "generated-secret"


def params(**options):
    base = {"notification_url": None, "notification_auth_token": None, "notification_types": None}
    base.update(options)
    return base


def at_apple(url=None, secret=None, types=()):
    return apple_view(
        {
            "notificationUrl": url,
            "notificationAuthTokenFingerprint": secret_fingerprint(secret),
            "subscribedNotificationTypes": list(types),
        }
    )


@pytest.mark.parametrize(
    "url, reason",
    [
        ("http://events.example.org/apple", "HTTPS only"),
        ("https:///apple", "no host"),
        ("https://events.example.org/apple?token=1", "no query"),
        ("https://events.example.org/apple#x", "no query or fragment"),
        ("https://user:pw@events.example.org/apple", "user name or password"),
        ("https://events.example.org/" + "a" * 600, "at most 512"),
    ],
)
def test_urls_apple_would_refuse_are_refused_with_the_reason(url, reason):
    with pytest.raises(ConfigurationError, match=reason) as caught:
        check_notification_url(url)
    assert "vpp_events" in str(caught.value)  # what to do


def test_a_good_url_passes_and_the_live_limit_applies():
    check_notification_url(URL)
    with pytest.raises(ConfigurationError, match="at most 20"):
        check_notification_url(URL, max_length=20)


def test_the_secret_is_checked_without_being_quoted():
    secret = "x" * 600
    with pytest.raises(ConfigurationError) as caught:
        check_auth_token(secret)
    assert secret not in str(caught.value) and "600" in str(caught.value)
    with pytest.raises(ConfigurationError, match="empty"):
        check_auth_token("   ")


def test_default_types_are_the_license_and_user_types_apple_offers():
    assert default_types(OFFERED) == ALL4
    assert default_types(["ASSET_COUNT", "SUBSCRIPTION_COUNT"]) == ["ASSET_COUNT"]
    assert offered_types({}) == ALL4 and offered_types({"notificationTypes": ["ASSET_COUNT"]}) == ["ASSET_COUNT"]


def test_a_new_url_gets_a_generated_secret_and_the_default_types():
    wanted = wanted_settings(params(notification_url=URL), NOTHING, OFFERED, generated)
    assert wanted == {"url": URL, "secret": "generated-secret", "types": ALL4}


def test_a_stored_secret_is_reused_and_a_given_one_wins():
    stored = {"url": URL, "secret": "stored", "types": ["ASSET_COUNT"]}
    assert wanted_settings(params(notification_url=URL), stored, OFFERED, generated)["secret"] == "stored"
    given = params(notification_url=URL, notification_auth_token="given")
    assert wanted_settings(given, stored, OFFERED, generated)["secret"] == "given"


def test_types_alone_use_the_stored_url_and_secret():
    stored = {"url": URL, "secret": "stored", "types": ALL4}
    wanted = wanted_settings(params(notification_types=["ASSET_COUNT", "ASSET_COUNT"]), stored, OFFERED, generated)
    assert wanted == {"url": URL, "secret": "stored", "types": ["ASSET_COUNT"]}


def test_unknown_type_and_test_notification_are_refused_naming_what_apple_offers():
    for kind in ("LICENSE_LOW", "TEST_NOTIFICATION"):
        with pytest.raises(ConfigurationError, match="does not offer '%s'" % kind) as caught:
            wanted_settings(params(notification_url=URL, notification_types=[kind]), NOTHING, OFFERED, generated)
        assert "ASSET_COUNT" in str(caught.value)


def test_types_without_any_url_are_refused_but_switching_off_needs_none():
    with pytest.raises(ConfigurationError, match="needs a notification_url"):
        wanted_settings(params(notification_types=["ASSET_COUNT"]), NOTHING, OFFERED, generated)
    assert wanted_settings(params(notification_types=[]), NOTHING, OFFERED, generated) == {
        "url": None,
        "secret": None,
        "types": [],
    }


def test_nothing_is_posted_when_apple_has_the_settings_whatever_the_order_of_types():
    wanted = {"url": URL, "secret": "s", "types": ALL4}
    assert apple_body(wanted, at_apple(URL, "s", reversed(ALL4))) is None


def test_a_new_url_or_secret_posts_both_with_the_types():
    wanted = {"url": URL, "secret": "s", "types": ["ASSET_COUNT"]}
    expected = {"notification_url": URL, "notification_auth_token": "s", "notification_types": ["ASSET_COUNT"]}
    assert apple_body(wanted, at_apple()) == expected
    assert apple_body(wanted, at_apple(URL, "other", ["ASSET_COUNT"])) == expected
    assert apple_body(wanted, at_apple("https://old.example.org/x", "s", ["ASSET_COUNT"])) == expected


def test_only_types_changed_posts_the_types_alone_so_apple_sends_no_test_notification():
    wanted = {"url": URL, "secret": "s", "types": []}
    assert apple_body(wanted, at_apple(URL, "s", ALL4)) == {"notification_types": []}


def test_switching_off_without_a_url():
    off = {"url": None, "secret": None, "types": []}
    assert apple_body(off, at_apple("https://elsewhere.example.org/x", "z", ["ASSET_COUNT"])) == {
        "notification_types": []
    }
    assert apple_body(off, at_apple("https://elsewhere.example.org/x", "z", [])) is None


def test_views_show_the_fingerprint_never_the_secret():
    shown = view({"url": URL, "secret": "very-secret-value", "types": ["ASSET_COUNT"]})
    assert shown == {
        "url": URL,
        "types": ["ASSET_COUNT"],
        "auth_token_fingerprint": secret_fingerprint("very-secret-value"),
    }
    assert "very-secret-value" not in repr(shown) and len(shown["auth_token_fingerprint"]) == 12


def test_drift_is_reported_only_against_settings_this_collection_recorded():
    stored = {"url": URL, "secret": "s", "types": ["ASSET_COUNT"]}
    assert drift_warning("hq", NOTHING, at_apple("https://other.example.org/x", "z", ["ASSET_COUNT"])) is None
    assert drift_warning("hq", stored, at_apple(URL, "s", ["ASSET_COUNT"])) is None
    warning = drift_warning("hq", stored, at_apple("https://other.example.org/x", "other-s3cret", ["USER_ASSOCIATED"]))
    assert "another tool" in warning and "https://other.example.org/x" in warning and "'hq'" in warning
    assert "USER_ASSOCIATED" in warning and "s3cret" not in warning


def test_the_store_already_holds_the_same_types_in_another_order_but_never_set_differs_from_none():
    stored = {"url": URL, "secret": "s", "types": ["ASSET_COUNT", "USER_ASSOCIATED"]}
    assert same_stored(stored, dict(stored, types=["USER_ASSOCIATED", "ASSET_COUNT"]))
    assert not same_stored(stored, dict(stored, secret="t"))
    assert not same_stored(NOTHING, {"url": None, "secret": None, "types": []})
