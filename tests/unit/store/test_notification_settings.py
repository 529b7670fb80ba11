# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Store contract: each token's Apple notification settings, the shared secret encrypted like the content token."""

from __future__ import annotations

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.errors import StoreError

SECRET = "notification-shared-secret-4f1c"
URL = "https://events.example.org/apple/school"


def test_a_new_token_has_no_notification_settings(registered):
    assert registered.get_notification_settings("school") == {"url": None, "secret": None, "types": None}
    assert registered.get_notification_secret("school") is None
    assert registered.notification_tokens("9000000000000001") == []


def test_settings_round_trip_with_the_secret_encrypted_at_rest(registered):
    registered.set_notification_settings("school", URL, SECRET, ["ASSET_COUNT", "USER_ASSOCIATED"])
    assert registered.get_notification_settings("school") == {
        "url": URL,
        "secret": SECRET,
        "types": ["ASSET_COUNT", "USER_ASSOCIATED"],
    }
    assert registered.get_notification_secret("school") == SECRET
    stored = registered.db.scalar("SELECT notification_secret FROM tokens WHERE name = ?", ("school",))
    assert stored and SECRET not in stored
    assert "notification" not in " ".join(registered.get_token("school"))


def test_empty_types_are_kept_apart_from_never_set(registered):
    registered.set_notification_settings("school", URL, SECRET, [])
    assert registered.get_notification_settings("school")["types"] == []


def test_settings_can_be_put_back_to_none(registered):
    registered.set_notification_settings("school", URL, SECRET, ["ASSET_COUNT"])
    registered.set_notification_settings("school", None, None, None)
    assert registered.get_notification_settings("school") == {"url": None, "secret": None, "types": None}


def test_notification_tokens_lists_the_tokens_of_a_location_that_have_a_secret(store, content_token):
    for name, uid in (("b", "42"), ("a", "42"), ("c", "42"), ("other", "7")):
        store.upsert_token(name, content_token(secret="s-" + name), uid=uid)
    store.set_notification_settings("b", URL, "secret-b", ["ASSET_COUNT"])
    store.set_notification_settings("a", URL, "secret-a", ["ASSET_COUNT"])
    store.set_notification_settings("other", URL, "secret-other", ["ASSET_COUNT"])
    assert store.notification_tokens("42") == [("a", "secret-a"), ("b", "secret-b")]
    assert store.notification_tokens("nope") == []


def test_unknown_token(store):
    assert store.get_notification_settings("ghost") is None
    assert store.get_notification_secret("ghost") is None
    with pytest.raises(StoreError, match="'ghost' is not registered"):
        store.set_notification_settings("ghost", URL, SECRET, [])


def test_the_secret_survives_reopening_with_the_same_key(registered, make_store):
    registered.set_notification_settings("school", URL, SECRET, ["ASSET_COUNT"])
    assert make_store().get_notification_secret("school") == SECRET


def test_list_notification_settings_reads_every_token_that_has_some_in_one_call(store, content_token):
    for name in ("a", "b", "c"):
        store.upsert_token(name, content_token(secret="s-" + name), uid="42")
    store.set_notification_settings("c", URL, "secret-c", ["ASSET_COUNT"])
    store.set_notification_settings("a", None, None, [])  # switched off, never given a URL
    assert store.list_notification_settings() == {
        "a": {"url": None, "secret": None, "types": []},
        "c": {"url": URL, "secret": "secret-c", "types": ["ASSET_COUNT"]},
    }
