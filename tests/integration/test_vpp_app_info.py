# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mdm.vpp.vpp_app_info: real ansible-playbook runs against the simulator, compared with the simulator's state.

Each test registers and syncs both locations of ``app_scenario()`` in the first tasks of its first play.
"""

from __future__ import annotations

import pytest

from tests.integration.app_helpers import (
    BOOK,
    FINAL_CUT,
    FREE_APP,
    HQ,
    KEYNOTE,
    PAGES,
    app_scenario,
    app_task,
    by_key,
    info_task,
    keys,
    played,
    setup_tasks,
)
from tests.integration.conftest import Ansible
from tests.integration.token_helpers import opened_store

# hq's apps in the listing's order (by name: A Book, Final Cut Pro, Free App, Keynote, Pages PLUS, Pages STDQ)
HQ_ORDER = [("hq", BOOK, "STDQ"), ("hq", FINAL_CUT, "STDQ"), ("hq", FREE_APP, "STDQ"), ("hq", KEYNOTE, "STDQ"),
            ("hq", PAGES, "PLUS"), ("hq", PAGES, "STDQ")]  # fmt: skip
EAST_PAGES = ("east", PAGES, "STDQ")


@pytest.fixture
def sim(simulator_factory):
    return simulator_factory(app_scenario())


@pytest.fixture
def runner(tmp_path, collections_path, sim):
    return Ansible(tmp_path, collections_path, sim.url)


def listed(run, task_name):
    result = run.result(task_name)
    assert result["changed"] is False
    return result["apps"]


def test_lists_every_app_with_its_counts(runner, sim):
    run = played(runner, [*setup_tasks(sim), info_task("all")])

    apps = listed(run, "all")
    assert keys(apps) == [EAST_PAGES, *HQ_ORDER]
    apps_by_key = by_key(apps)
    for asset in sim.location_state(HQ)["assets"]:
        app = apps_by_key[("hq", asset["adamId"], asset["pricingParam"])]
        counts = (app["total"], app["assigned"], app["available"], app["retired"])
        assert counts == (asset["totalCount"], asset["assignedCount"], asset["availableCount"], asset["retiredCount"])
    pages = apps_by_key[("hq", PAGES, "STDQ")]
    assert (pages["name"], pages["bundle_id"], pages["version"], pages["token_type"]) == (
        "Pages", "com.apple.iwork.pages", "14.1", "business",
    )  # fmt: skip
    assert (pages["percent_used"], pages["deployed"], pages["application"], pages["low"]) == (4.0, 0, None, False)
    assert pages["platforms"] == ["iOS", "macOS"] and pages["device_assignable"] and pages["revocable"]
    book = apps_by_key[("hq", BOOK, "STDQ")]
    assert (book["product_type"], book["device_assignable"], book["revocable"]) == ("Book", False, False)
    assert apps_by_key[("hq", FREE_APP, "STDQ")]["unlimited"] is True
    assert apps_by_key[EAST_PAGES]["token_type"] == "education" and apps_by_key[EAST_PAGES]["total"] == 10


def test_filters_token_platform_product_type_name_and_adam_id(runner, sim):
    run = played(runner, [
        *setup_tasks(sim),
        info_task("east", tokens=["east", "west"]),
        info_task("mac", platform="macos"),
        info_task("books", product_type="Book"),
        info_task("name", name="*CUT*"),
        info_task("bundle", tokens=["hq"], name="com.apple.iwork.*", product_type="App"),
        info_task("keynote", adam_id=KEYNOTE),
    ])  # fmt: skip

    assert keys(listed(run, "east")) == [EAST_PAGES]
    assert any("west not registered" in warning for warning in run.result("east")["warnings"])
    assert keys(listed(run, "mac")) == [EAST_PAGES] + [key for key in HQ_ORDER if key[1] != FREE_APP]
    assert keys(listed(run, "books")) == [("hq", BOOK, "STDQ")]
    assert keys(listed(run, "name")) == [("hq", FINAL_CUT, "STDQ")]
    assert keys(listed(run, "bundle")) == [("hq", KEYNOTE, "STDQ"), ("hq", PAGES, "PLUS"), ("hq", PAGES, "STDQ")]
    assert keys(listed(run, "keynote")) == [("hq", KEYNOTE, "STDQ")]


def test_low_threshold_absolute_and_percent(runner, sim):
    run = played(runner, [
        *setup_tasks(sim),
        info_task("five", low_license_threshold=5),
        info_task("percent", low_license_threshold="97%"),
        info_task("huge", low_license_threshold=100000),
        info_task("bad", ignore_errors=True, low_license_threshold="lots"),
    ])  # fmt: skip

    def low(task_name):
        return [key for key, app in by_key(listed(run, task_name)).items() if app["low"]]

    # available: Pages 48/50, Pages PLUS 4/4, Keynote 3/3, A Book 19/20, Final Cut 10/10, east Pages 10/10
    assert low("five") == [("hq", KEYNOTE, "STDQ"), ("hq", PAGES, "PLUS")]
    assert low("percent") == [("hq", BOOK, "STDQ"), ("hq", PAGES, "STDQ")]  # 19 < 19.4 and 48 < 48.5
    assert low("huge") == [key for key in [EAST_PAGES, *HQ_ORDER] if key[1] != FREE_APP]  # unlimited: never low
    assert "low_license_threshold must be a number" in run.result("bad")["msg"]


def test_jmespath_query_shapes_the_result(runner, sim):
    run = played(runner, [
        *setup_tasks(sim),
        info_task("books", query="[?product_type=='Book'].{name: name, available: available}"),
        info_task("fullest", tokens=["hq"], query="max_by([?!unlimited], &percent_used).name"),
        info_task("count", query="length(@)"),
        info_task("broken", ignore_errors=True, query="[?name=="),
    ])  # fmt: skip

    assert listed(run, "books") == [{"name": "A Book", "available": 19}]
    assert listed(run, "fullest") == "A Book"  # 1 of 20 assigned: 5%
    assert listed(run, "count") == 7
    assert "query '[?name==' is not a valid JMESPath expression" in run.result("broken")["msg"]


def test_deployed_counts_licensed_members_of_install_deployments(runner, sim):
    played(runner, [*setup_tasks(sim), app_task("pages", token="hq", adam_id=PAGES, pricing_param="STDQ")])
    with opened_store(runner) as store:  # what vpp_deployment records, written through the store API
        for name, action in (("pages-ipads", "install"), ("pages-reclaim", "uninstall")):
            store.upsert_deployment(name, application="Pages (hq)", collection_name=name, collection_type="device",
                                    action=action, purpose="required")  # fmt: skip
        store.upsert_members("pages-ipads", [
            {"member_id": "S1", "license_type": "device", "state": "licensed"},
            {"member_id": "S2", "license_type": "device", "state": "licensed"},
            {"member_id": "S3", "license_type": "device", "state": "failed"},
            {"member_id": "S4", "license_type": "device", "state": "pending"},
        ])  # fmt: skip
        store.upsert_members("pages-reclaim", [{"member_id": "S5", "license_type": "device", "state": "licensed"}])
        for serial in ("S1", "S2", "S3", "S4", "S5"):
            store.record_assignment("hq", PAGES, "STDQ", "device", serial)

    run = played(runner, [info_task("pages", adam_id=PAGES)])

    deployed = {key: (app["deployed"], app["application"]) for key, app in by_key(listed(run, "pages")).items()}
    assert deployed == {
        EAST_PAGES: (0, None),
        ("hq", PAGES, "PLUS"): (0, None),
        ("hq", PAGES, "STDQ"): (2, "Pages (hq)"),
    }


def test_refresh_picks_up_a_purchase_and_writes_nothing_in_check_mode(runner, sim):
    played(runner, setup_tasks(sim))
    sim.purchase(HQ, KEYNOTE, 5)
    sim.clear_request_log()

    run = played(runner, [
        info_task("stale", adam_id=KEYNOTE),
        info_task("check refresh", check_mode=True, tokens=["hq"], adam_id=KEYNOTE, refresh=True),
        info_task("refresh", tokens=["hq"], adam_id=KEYNOTE, refresh=True),
    ])  # fmt: skip

    assert [app["total"] for app in listed(run, "stale")] == [3]
    checked = run.result("check refresh")
    assert [app["total"] for app in listed(run, "check refresh")] == [3]  # the store as it was
    (hq,) = checked["refresh"]
    assert (hq["name"], hq["status"], hq["changed"]) == ("hq", "ok", True)
    assert [(c["adam_id"], c["delta"]["total_count"]) for c in hq["license_count_changes"]] == [(KEYNOTE, 5)]
    refreshed = run.result("refresh")
    assert [(app["total"], app["available"]) for app in listed(run, "refresh")] == [(8, 8)]
    assert [(r["name"], r["status"], r["mode"]) for r in refreshed["refresh"]] == [("hq", "ok", "incremental")]
    assert {entry["location"] for entry in sim.request_log() if entry["location"]} == {HQ}  # east was not synced
    with opened_store(runner) as store:
        assert store.get_asset("hq", KEYNOTE)["total_count"] == 8


def test_holders_name_who_holds_each_license_and_untracked_ones_can_be_reclaimed(runner, sim):
    deploy = {"name": "pages-ipads", "application": "Pages (hq)",
              "collection": {"name": "iPads", "type": "device", "members": ["DMPNEW000001"]}}  # fmt: skip
    pages = {"tokens": ["hq"], "adam_id": PAGES, "product_type": "App", "name": "Pages"}
    run = played(runner, [
        *setup_tasks(sim),
        app_task("pages", token="hq", adam_id=PAGES, pricing_param="STDQ"),
        {"name": "deploy", "mdm.vpp.vpp_deployment": deploy},
        {"name": "sync again", "mdm.vpp.vpp_sync": {}},
        info_task("plain", **pages),
        info_task("holders", holders=True, **pages),
        info_task("check", check_mode=True, holders=True, **pages),
        info_task("cut", holders=True, holders_limit=1, **pages),
        info_task("bad limit", ignore_errors=True, holders=True, holders_limit=-1),
    ])  # fmt: skip

    assert [("holders" in app) for app in listed(run, "plain")] == [False, False]  # PLUS and STDQ, no holders asked
    stdq = [app for app in listed(run, "holders") if app["pricing_param"] == "STDQ"]
    holders = [(h["kind"], h["id"], h["deployment"], h["tracked"]) for h in stdq[0]["holders"]]
    assert holders == [  # as the simulator assigned them: two untracked first, then ours
        ("device", "C02XK0AAJG5H", None, False),
        ("user", "u-1", None, False),
        ("device", "DMPNEW000001", "pages-ipads", True),
    ]
    assert (stdq[0]["holders_total"], stdq[0]["holders_truncated"], stdq[0]["untracked"]) == (3, False, 2)
    plus = [app for app in listed(run, "holders") if app["pricing_param"] == "PLUS"][0]
    assert (plus["holders"], plus["holders_total"], plus["holders_truncated"]) == ([], 0, False)
    assert listed(run, "check") == listed(run, "holders")
    cut = [app for app in listed(run, "cut") if app["pricing_param"] == "STDQ"][0]
    assert [h["id"] for h in cut["holders"]] == ["C02XK0AAJG5H"]
    assert (cut["holders_total"], cut["holders_truncated"]) == (3, True)
    assert "holders_limit must be 0 or more holders per app, got -1" in run.result("bad limit")["msg"]

    # the documented reclaim: an uninstall deployment of the untracked device licenses, then a sync
    untracked = [h["id"] for h in stdq[0]["holders"] if not h["tracked"] and h["kind"] == "device"]
    reclaim = {"name": "pages-reclaim-untracked", "application": "Pages (hq)", "action": "uninstall",
               "collection": {"name": "Untracked", "type": "device", "members": untracked}}  # fmt: skip
    after = played(runner, [
        {"name": "reclaim", "mdm.vpp.vpp_deployment": reclaim},
        {"name": "sync", "mdm.vpp.vpp_sync": {}},
        info_task("after", holders=True, **pages),
    ])  # fmt: skip

    stdq = [app for app in listed(after, "after") if app["pricing_param"] == "STDQ"][0]
    assert [(h["id"], h["tracked"]) for h in stdq["holders"]] == [("u-1", False), ("DMPNEW000001", True)]
    at_apple = {a.get("serialNumber") for a in sim.location_state(HQ)["assignments"] if a["adamId"] == PAGES}
    assert "C02XK0AAJG5H" not in at_apple and "DMPNEW000001" in at_apple
