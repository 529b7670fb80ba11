# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Store contract: who holds each asset's licenses (``iter_license_holders``) and the audit trail's reading."""

from __future__ import annotations

TOKEN = "school"


def holders(store, limit=10, **filters):
    return [
        (row["token"], row["adam_id"], row["pricing_param"], row["target_kind"], row["target_id"], row["deployment"],
         row["holders_total"])
        for row in store.iter_license_holders(limit, **filters)
    ]  # fmt: skip


def seeded(registered, content_token):
    """``school``: Pages held by S1, S2 (given by deployment pages-ipads) and S3, u-1 (untracked); a book held by
    u-1; ``hq``: Pages held by S9."""
    store = registered
    store.upsert_token("hq", content_token(secret="another-secret"), token_type="business")
    store.replace_assets(TOKEN, [
        {"adam_id": "1", "product_type": "App", "total_count": 10, "assigned_count": 4},
        {"adam_id": "7", "product_type": "Book", "total_count": 5, "assigned_count": 1},
    ])  # fmt: skip
    store.replace_assets("hq", [{"adam_id": "1", "product_type": "App", "total_count": 3, "assigned_count": 1}])
    store.upsert_application("pages-school", token=TOKEN, adam_id="1")
    for name, action in (("pages-ipads", "install"), ("pages-more", "install"), ("pages-reclaim", "uninstall")):
        store.upsert_deployment(name, application="pages-school", collection_name=name, collection_type="device",
                                action=action, purpose="required")  # fmt: skip
    store.upsert_members("pages-ipads", [
        {"member_id": "S1", "license_type": "device", "state": "licensed"},
        {"member_id": "S2", "license_type": "device", "state": "licensed"},
        {"member_id": "S3", "license_type": "device", "state": "failed"},
    ])  # fmt: skip
    store.upsert_members("pages-more", [{"member_id": "S2", "license_type": "device", "state": "licensed"}])
    store.upsert_members("pages-reclaim", [{"member_id": "S3", "license_type": "device", "state": "licensed"}])
    for kind, target in (("device", "S1"), ("device", "S2"), ("device", "S3"), ("user", "u-1")):
        store.record_assignment(TOKEN, "1", "STDQ", kind, target)
    store.record_assignment(TOKEN, "7", "STDQ", "user", "u-1")
    store.record_assignment("hq", "1", "STDQ", "device", "S9")
    return store


def test_holders_name_the_deployment_that_gave_each_license_untracked_first(registered, content_token):
    store = seeded(registered, content_token)

    assert holders(store) == [
        ("hq", "1", "STDQ", "device", "S9", None, 1),
        (TOKEN, "1", "STDQ", "device", "S3", None, 4),  # failed member, uninstall deployment: untracked
        (TOKEN, "1", "STDQ", "user", "u-1", None, 4),
        (TOKEN, "1", "STDQ", "device", "S1", "pages-ipads", 4),
        (TOKEN, "1", "STDQ", "device", "S2", "pages-ipads", 4),  # two deployments: the first by name
        (TOKEN, "7", "STDQ", "user", "u-1", None, 1),
    ]


def test_holders_are_cut_per_asset_and_filtered(registered, content_token):
    store = seeded(registered, content_token)

    assert holders(store, limit=1, tokens=[TOKEN]) == [
        (TOKEN, "1", "STDQ", "device", "S3", None, 4),  # the total is of every holder, before the cut
        (TOKEN, "7", "STDQ", "user", "u-1", None, 1),
    ]
    assert holders(store, limit=0) == []
    assert [row[:2] for row in holders(store, product_type="Book")] == [(TOKEN, "7")]
    assert [row[0] for row in holders(store, adam_id="1", tokens=["hq"])] == ["hq"]
    assert holders(store, tokens=[]) == [] and holders(store, tokens=["ghost"]) == []


def test_holders_come_from_one_query_whatever_the_number_of_assets(registered, content_token, monkeypatch):
    store = seeded(registered, content_token)
    statements = []
    stream = store.db.stream
    monkeypatch.setattr(store.db, "stream", lambda sql, *args, **kw: statements.append(sql) or stream(sql, *args, **kw))

    assert len(list(store.iter_license_holders(1000))) == 6
    assert len(statements) == 1


def test_audit_reads_newest_first_filtered_with_the_app_name_and_whether_more_match(registered, content_token):
    store = seeded(registered, content_token)
    store.put_metadata([{"adam_id": "1", "name": "Pages"}])
    store.audit("hq", "user_added", target_kind="user", target_id="u-9", after={"status": "Registered"}, run_id="r-2")

    rows, more = store.list_audit(2)
    assert [(r["token"], r["kind"], r["target_id"]) for r in rows] == [("hq", "user_added", "u-9"),
                                                                       ("hq", "assignment_added", "S9")]  # fmt: skip
    assert more is True and rows[0]["after"] == {"status": "Registered"} and rows[1]["app"] == "Pages"
    rows, more = store.list_audit(100, tokens=[TOKEN], kinds=["assignment_added"], adam_id="1", target_id="u-1")
    assert [(r["adam_id"], r["target_id"], r["origin"]) for r in rows] == [("1", "u-1", "local")] and more is False
    assert store.list_audit(100, run_id="r-2")[0][0]["target_id"] == "u-9"
    assert store.list_audit(100, since="2999-01-01T00:00:00+00:00") == ([], False)
    assert store.list_audit(100, tokens=[]) == ([], False)
