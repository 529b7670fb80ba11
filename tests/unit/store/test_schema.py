# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Store contract: numbered migrations from an empty store and from an older schema."""

from __future__ import annotations

import pytest

from ansible_collections.mdm.vpp.plugins.module_utils import store as store_module
from ansible_collections.mdm.vpp.plugins.module_utils.errors import StoreError


def test_an_empty_store_is_migrated_to_the_latest_version(store):
    assert store.schema_version == store_module.SCHEMA_VERSION >= 2
    assert [migration[0] for migration in store_module.MIGRATIONS] == list(range(1, store_module.SCHEMA_VERSION + 1))
    assert store.count_tokens() == 0


def test_a_version_1_store_is_upgraded_keeping_its_data(make_store, content_token):
    old = make_store(migrate_to=1)
    assert old.schema_version == 1
    old.upsert_token("school", content_token(), uid="42")
    old.record_assignment("school", "1", "STDQ", "user", "u1")
    manager_id = old.manager_id
    old.close()

    upgraded = make_store()

    assert upgraded.schema_version == store_module.SCHEMA_VERSION
    assert upgraded.manager_id == manager_id
    assert upgraded.get_token_secret("school") == content_token().secret
    assert [a["target_id"] for a in upgraded.iter_assignments("school")] == ["u1"]
    # migration 2 added the members' change time
    upgraded.upsert_application("pages", token="school", adam_id="1")
    upgraded.upsert_deployment("d", application="pages", collection_name="c", collection_type="user",
                               action="install", purpose="required")  # fmt: skip
    upgraded.upsert_members("d", [{"member_id": "u1", "state": "licensed"}])
    assert upgraded.list_members("d")[0]["updated_at"] is not None


def test_a_new_migration_is_applied_once_and_a_newer_store_is_refused(make_store, monkeypatch):
    make_store().close()
    future_version = store_module.SCHEMA_VERSION + 1
    future = (future_version, "test migration", ("CREATE TABLE future_feature (id TEXT PRIMARY KEY)",))
    with monkeypatch.context() as patch:
        patch.setattr(store_module, "MIGRATIONS", store_module.MIGRATIONS + (future,))
        patch.setattr(store_module, "SCHEMA_VERSION", future_version)
        assert make_store().schema_version == future_version
        # reopening does not run it again (it would fail: the table exists)
        assert make_store().schema_version == future_version

    newer = "schema version %d, newer than this collection supports" % future_version
    with pytest.raises(StoreError, match=newer) as caught:
        make_store()
    assert "upgrade the mdm.vpp collection" in str(caught.value)


def test_a_version_2_store_loses_its_shared_staging_tables_and_keeps_its_data(make_store, content_token):
    old = make_store(migrate_to=2)
    old.upsert_token("school", content_token(), uid="42")
    old.record_assignment("school", "1", "STDQ", "user", "u1")
    assert {"assignment_staging", "user_staging"} <= set(old.table_names())
    old.close()

    upgraded = make_store()

    assert upgraded.schema_version == store_module.SCHEMA_VERSION
    assert not {"assignment_staging", "user_staging"} & set(upgraded.table_names())
    assert upgraded.count_assignments("school", target_id="u1") == 1  # by target without the dropped index
    assert [a["target_id"] for a in upgraded.iter_assignments("school")] == ["u1"]
    snapshot = upgraded.begin_assignment_snapshot("school")
    snapshot.add_rows([{"adam_id": "1", "pricing_param": "STDQ", "target_kind": "user", "target_id": "u2"}])
    assert snapshot.finish() == {"added": 1, "removed": 1}
