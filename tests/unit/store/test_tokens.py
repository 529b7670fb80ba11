# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Store contract: tokens, their encrypted secrets and the store key."""

from __future__ import annotations

import uuid

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils.errors import StoreError, StoreKeyError


def test_new_token_round_trips_every_field_without_its_secret(store, content_token):
    token = content_token(org_name="Lycée Victor Hugo")
    stored = store.upsert_token(
        "lyon",
        token,
        description="Lyon campus",
        categories=["schools", "france"],
        apple_id="admin@example.org",
        token_type="education",
        location_name="Lyon",
        uid="9000000000000042",
        country="FR",
        website_url="https://school.apple.com",
        default_platform="volumestore",
        claimed=True,
    )
    assert stored["name"] == "lyon"
    assert stored["fingerprint"] == token.fingerprint
    assert stored["org_name"] == "Lycée Victor Hugo"
    assert stored["expires_at"] == "2031-02-14T09:15:00+00:00"
    assert stored["categories"] == ["schools", "france"]
    assert stored["claimed"] is True
    assert stored["status"] == "active"
    assert stored["country"] == "FR"
    assert stored["last_sync_at"] is None
    assert "secret" not in stored and token.secret not in repr(stored)
    assert store.get_token_secret("lyon") == token.secret
    assert store.get_token("lyon") == stored


def test_update_changes_only_the_given_fields(registered, content_token):
    before = registered.get_token("school")
    after = registered.upsert_token("school", description="new text")
    assert after["description"] == "new text"
    assert {k: v for k, v in after.items() if k not in ("description", "updated_at")} == {
        k: v for k, v in before.items() if k not in ("description", "updated_at")
    }


def test_renewing_the_content_token_replaces_secret_fingerprint_and_expiry(registered, content_token):
    renewed = content_token(secret="renewed-secret", exp_date="2032-03-01T00:00:00Z")
    stored = registered.upsert_token("school", renewed)
    assert stored["fingerprint"] == renewed.fingerprint
    assert stored["expires_at"] == "2032-03-01T00:00:00+00:00"
    assert registered.get_token_secret("school") == renewed.secret


def test_creating_a_token_needs_its_content_token(store):
    with pytest.raises(StoreError, match="content token is needed"):
        store.upsert_token("nameless", description="no secret")
    assert store.count_tokens() == 0


def test_unknown_token_field_is_a_programming_error(registered):
    with pytest.raises(TypeError, match="colour"):
        registered.upsert_token("school", colour="red")


def test_list_count_and_find_by_uid(store, content_token):
    for name, uid in (("b", "42"), ("a", "42"), ("c", "7")):
        store.upsert_token(name, content_token(secret="secret-" + name), uid=uid)
    assert [t["name"] for t in store.list_tokens()] == ["a", "b", "c"]
    assert [t["name"] for t in store.list_tokens(names=["c", "a", "missing"])] == ["a", "c"]
    assert store.list_tokens(names=[]) == []
    assert store.count_tokens() == 3
    assert [t["name"] for t in store.find_token_by_uid("42")] == ["a", "b"]
    assert store.find_token_by_uid("nope") == []


def test_mark_synced_records_times_and_versions(registered):
    token = registered.mark_synced("school", full=True, at="2026-05-01T10:00:00+00:00", assignments_version="v7")
    assert token["last_sync_at"] == token["last_full_sync_at"] == "2026-05-01T10:00:00+00:00"
    assert token["assignments_version"] == "v7"
    token = registered.mark_synced("school", users_version="u3")
    assert token["last_full_sync_at"] == "2026-05-01T10:00:00+00:00"
    assert token["last_sync_at"] != "2026-05-01T10:00:00+00:00"
    assert (token["assignments_version"], token["users_version"]) == ("v7", "u3")


def test_missing_token_is_a_clear_error(store):
    assert store.get_token("ghost") is None
    with pytest.raises(StoreError, match="'ghost' is not registered") as caught:
        store.get_token_secret("ghost")
    assert "vpp_token" in str(caught.value)


def test_delete_token_cascades_everything_synced_through_it(registered, content_token):
    registered.upsert_token("other", content_token(secret="other-secret"))
    for name in ("school", "other"):
        registered.replace_assets(name, [{"adam_id": "1", "total_count": 5}])
        registered.apply_assignment_delta(name, [{"adam_id": "1", "target_kind": "user", "target_id": "u1"}])
        registered.apply_user_delta(name, [{"client_user_id": "u1", "status": "Registered"}])
    registered.upsert_application("maps", token="school", adam_id="1")
    registered.upsert_deployment("maps-all", application="maps", collection_name="all", collection_type="user",
                                 action="install", purpose="required")  # fmt: skip
    registered.record_event("school", "e1", "ASSOCIATE", deployment="maps-all")

    assert registered.delete_token("school") is True
    assert registered.delete_token("school") is False
    assert registered.get_application("maps") is None
    assert registered.get_deployment("maps-all") is None
    assert list(registered.iter_audit(token="school")) == []
    with pytest.raises(StoreError):
        registered.count_assignments("school")
    # the other token keeps all of its data
    assert registered.count_assignments("other") == 1
    assert registered.count_users("other") == 1
    assert len(registered.list_assets("other")) == 1


def test_wrong_key_is_refused_with_a_clear_message(registered, make_store, store_key):
    wrong = "not-" + store_key
    with pytest.raises(StoreKeyError, match="wrong key") as caught:
        make_store(key=wrong)
    message = str(caught.value)
    assert wrong not in message and store_key not in message
    assert "store_key" in message  # the hint says what to do


def test_the_same_key_opens_the_store_again_with_the_same_manager_id(registered, make_store, content_token):
    again = make_store()
    assert again.manager_id == registered.manager_id
    assert uuid.UUID(again.manager_id)
    assert again.get_token_secret("school") == content_token().secret


def test_store_and_token_reprs_reveal_no_secret(registered, content_token, store_key):
    secret = content_token().secret
    for text in (repr(registered), str(registered), repr(registered.get_token("school"))):
        assert secret not in text and store_key not in text
