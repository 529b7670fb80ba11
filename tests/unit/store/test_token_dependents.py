# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Store contract: what depends on a token (what deleting it would take along)."""

from __future__ import annotations


def test_a_bare_token_has_no_dependents_and_an_unknown_one_none(registered):
    assert registered.token_dependents("school") == {"applications": [], "deployments": [], "assets": 0}
    assert registered.token_dependents("nowhere") is None


def test_dependents_name_applications_deployments_with_member_counts_and_assets(registered, content_token):
    store = registered
    store.upsert_token("other", content_token(secret="other-secret"), uid="9000000000000002")
    store.replace_assets("school", [{"adam_id": "1"}, {"adam_id": "2"}, {"adam_id": "3", "pricing_param": "PLUS"}])
    store.replace_assets("other", [{"adam_id": "1"}])
    store.upsert_application("pages", token="school", adam_id="1")
    store.upsert_application("keynote", token="school", adam_id="2")
    store.upsert_application("pages elsewhere", token="other", adam_id="1")
    common = {"collection_type": "device", "purpose": "required"}
    store.upsert_deployment("pages-ipads", application="pages", collection_name="iPads", action="install", **common)
    store.upsert_deployment("empty", application="keynote", collection_name="none", action="install", **common)
    store.upsert_deployment("back", application="pages", collection_name="iPads", action="uninstall", **common)
    store.upsert_deployment("theirs", application="pages elsewhere", collection_name="x", action="install", **common)
    store.upsert_members(
        "pages-ipads",
        [{"member_id": "SN1", "state": "licensed"}, {"member_id": "SN2", "state": "licensed"}, {"member_id": "SN3"}],
    )
    store.upsert_members("back", [{"member_id": "SN1", "state": "reclaimed"}])
    store.upsert_members("theirs", [{"member_id": "SN9", "state": "licensed"}])

    dependents = store.token_dependents("school")

    assert dependents["applications"] == ["keynote", "pages"]
    assert dependents["assets"] == 3
    view = [(d["name"], d["application"], d["action"], d["members"], d["licensed"]) for d in dependents["deployments"]]
    assert view == [
        ("back", "pages", "uninstall", 1, 0),
        ("empty", "keynote", "install", 0, 0),
        ("pages-ipads", "pages", "install", 3, 2),
    ]
    assert dependents["deployments"][2]["collection_name"] == "iPads"
