# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""KMFDDM API (standalone and NanoHUB's /api/v1/ddm/) and the DDM app path (§4; §5 items 2, 13, 20)."""

from __future__ import annotations

import base64
import json
import plistlib

import pytest
import requests

from tests.mdm_simulator.testing import IPAD, IPHONE, Client

INSTALL_REQUIRED = {"Install": "Required", "License": {"Assignment": "Device"}}
APP = {
    "Identifier": "com.example.app.pages",
    "Type": "com.apple.configuration.app.managed",
    "Payload": {"AppStoreID": "1000000001", "InstallBehavior": INSTALL_REQUIRED},
}
SUBSCRIBE = {"Identifier": "com.example.status.apps", "Type": "com.apple.configuration.management.status-subscriptions",
             "Payload": {"StatusItems": [{"Name": "app.managed.list"}]}}  # fmt: skip
ACTIVATE = {"Identifier": "com.example.act.apps", "Type": "com.apple.activation.simple",
            "Payload": {"StandardConfigurations": [APP["Identifier"], SUBSCRIBE["Identifier"]]}}  # fmt: skip


@pytest.fixture
def ddm(mdm_factory, receiver):
    client = Client(
        mdm_factory(flavor="kmfddm", webhook_url=receiver.url, license_oracle=lambda a, s, u: s == "C02XK0AAJG5H")
    )
    client.prefix = "/v1"
    return client


def api(client, method, path, **kwargs):
    return client.request(method, client.prefix + path, **kwargs)


def set_up(client, enrollment_id, nonotify=False):
    suffix = "?nonotify=1" if nonotify else ""
    for declaration in (APP, SUBSCRIBE, ACTIVATE):
        assert api(client, "PUT", "/declarations" + suffix, json=declaration).status_code == 204
        response = api(client, "PUT", "/set-declarations/apps", params={"declaration": declaration["Identifier"]})
        assert response.status_code == 204
    assert api(client, "PUT", "/enrollment-sets/" + enrollment_id, params={"set": "apps"}).status_code == 204


def app_list(client, enrollment_id):
    report = api(client, "GET", "/status-report/" + enrollment_id)
    assert report.status_code == 200
    return report.json()["StatusItems"]["app"]["managed"]["list"]


def test_kmfddm_change_codes_and_null(ddm):
    """§5.20: 204 changed / 304 unchanged; 400 invalid; empty GETs are null; enrollment-sets-all/sets route."""
    assert api(ddm, "GET", "/declarations").text == "null\n"
    assert api(ddm, "GET", "/sets").json() is None
    assert api(ddm, "PUT", "/declarations", json=APP).status_code == 204
    assert api(ddm, "PUT", "/declarations", json=APP).status_code == 304
    assert api(ddm, "PUT", "/declarations", json={"Identifier": "x", "Type": "t"}).status_code == 400
    assert "error" in api(ddm, "PUT", "/declarations", json={"Type": "t", "Payload": {}}).json()
    stored = api(ddm, "GET", "/declarations/" + APP["Identifier"]).json()
    assert stored["Payload"] == APP["Payload"] and stored["ServerToken"]
    assert api(ddm, "GET", "/declarations/nope").status_code == 404
    assert api(ddm, "PUT", "/set-declarations/s1", params={"declaration": APP["Identifier"]}).status_code == 204
    assert api(ddm, "PUT", "/set-declarations/s1", params={"declaration": APP["Identifier"]}).status_code == 304
    assert api(ddm, "GET", "/declaration-sets/" + APP["Identifier"]).json() == ["s1"]
    assert api(ddm, "PUT", "/enrollment-sets/E1", params={"set": "s1"}).status_code == 204
    assert api(ddm, "GET", "/enrollment-sets/E1").json() == ["s1"]
    assert api(ddm, "DELETE", "/enrollment-sets-all/sets/E1").status_code == 204
    assert api(ddm, "DELETE", "/enrollment-sets-all/sets/E1").status_code == 304
    assert api(ddm, "POST", "/declarations/%s/touch" % APP["Identifier"]).status_code == 204
    assert api(ddm, "DELETE", "/declarations/" + APP["Identifier"]).status_code == 204
    assert api(ddm, "DELETE", "/declarations/" + APP["Identifier"]).status_code == 304


def test_notify_enqueues_declarative_management(ddm):
    """§4.2: changes notify (unless nonotify); notify takes repeatable id=/set=/declaration=; unknown IDs in no set
    produce nothing (§5.2)."""
    set_up(ddm, IPHONE, nonotify=True)
    queued = ddm.hook("GET", "/queue", id=IPHONE)
    assert [item["request_type"] for item in queued] == ["DeclarativeManagement"]  # the enrollment-sets PUT
    assert api(ddm, "POST", "/notify", params=[("id", IPHONE), ("id", IPAD)]).status_code == 204
    assert len(ddm.hook("GET", "/queue", id=IPAD)) == 1
    assert api(ddm, "POST", "/notify", params={"declaration": "unknown"}).status_code == 204
    assert api(ddm, "PUT", "/declarations", json=dict(APP, Payload={"BundleID": "x"})).status_code == 204
    assert len(ddm.hook("GET", "/queue", id=IPHONE)) == 3  # declaration -> set -> enrollment
    assert api(ddm, "PUT", "/declarations?nonotify=true", json=dict(APP, Payload={"BundleID": "y"})).status_code == 204
    assert len(ddm.hook("GET", "/queue", id=IPHONE)) == 3
    command = ddm.mdm.queue_commands(IPHONE)[0].command
    assert "Data" not in ddm.mdm.queue_commands(IPAD)[0].command  # two ids: no tokens
    assert json.loads(command["Data"])["SyncTokens"]["DeclarationsToken"]  # single id: tokens in Data


def test_ddm_app_install_license_and_removal(ddm, receiver):
    """§1.7/§4.3: the licensed device installs the app; the unlicensed one reports Error.LicenseNotFound; leaving
    the set makes the app _removed in the next report; status kept for declaration-status and webhooks."""
    set_up(ddm, IPHONE)
    api(ddm, "PUT", "/enrollment-sets/" + IPAD, params={"set": "apps"})
    ddm.connect(IPHONE, IPAD)
    [item] = app_list(ddm, IPHONE)
    assert (item["identifier"], item["state"], item["declaration-identifier"]) == (
        "com.apple.iwork.pages", "managed", APP["Identifier"])  # fmt: skip
    [failed] = app_list(ddm, IPAD)
    assert failed["state"] == "failed"
    assert failed["reasons"][0]["code"] == "Error.LicenseNotFound"
    status = api(ddm, "GET", "/declaration-status/%s,%s" % (IPHONE, IPAD)).json()
    by_id = {entry["identifier"]: entry for entry in status[IPHONE]}
    assert by_id[APP["Identifier"]]["active"] is True and by_id[APP["Identifier"]]["current"] is True
    installed = ddm.hook("GET", "/device", id=IPHONE)["installed"]["com.apple.iwork.pages"]
    assert installed["source"] == "ddm"
    report = api(ddm, "GET", "/status-report/" + IPHONE)
    assert report.headers["X-Status-Report-Index"] == "0" and report.headers["Last-Modified"]
    assert api(ddm, "DELETE", "/set-declarations/apps", params={"declaration": APP["Identifier"]}).status_code == 204
    ddm.connect(IPHONE)
    assert app_list(ddm, IPHONE) == [{"identifier": "com.apple.iwork.pages", "_removed": True}]
    assert "com.apple.iwork.pages" not in ddm.hook("GET", "/device", id=IPHONE)["installed"]
    # back in the set, then the enrollment leaves the set: removed again
    assert api(ddm, "PUT", "/set-declarations/apps", params={"declaration": APP["Identifier"]}).status_code == 204
    ddm.connect(IPHONE)
    assert app_list(ddm, IPHONE)[0]["state"] == "managed"
    assert api(ddm, "DELETE", "/enrollment-sets/" + IPHONE, params={"set": "apps"}).status_code == 204
    ddm.connect(IPHONE)
    assert app_list(ddm, IPHONE) == [{"identifier": "com.apple.iwork.pages", "_removed": True}]
    events = receiver.events("mdm.DeclarativeManagement")
    statuses = [plistlib.loads(base64.b64decode(e["checkin_event"]["raw_payload"])) for e in events]
    reports = [body for body in statuses if body["Endpoint"] == "status"]
    assert json.loads(reports[-1]["Data"])["StatusItems"]["app"]["managed"]["list"][0]["_removed"] is True
    assert api(ddm, "GET", "/status-report/nobody").status_code == 404


def test_nanohub_ddm_mount(mdm_factory, receiver):
    """§4.4: KMFDDM under /api/v1/ddm/, user nanohub; ios < 17.2 cannot apply app.managed (§5.16)."""
    scenario = {"apps": {"1000000001": "com.apple.iwork.pages"},
                "devices": [{"udid": "OLD-IPHONE", "serial": "S", "os_version": "16.7"}]}  # fmt: skip
    hub = Client(mdm_factory(scenario, flavor="nanohub", webhook_url=receiver.url))
    hub.prefix = "/api/v1/ddm"
    assert (
        requests.get(hub.mdm.url + "/api/v1/ddm/declarations", auth=("kmfddm", "secret"), timeout=5).status_code == 401
    )
    set_up(hub, "OLD-IPHONE")
    hub.connect("OLD-IPHONE")
    status = api(hub, "GET", "/declaration-status/OLD-IPHONE").json()["OLD-IPHONE"]
    app = [entry for entry in status if entry["identifier"] == APP["Identifier"]][0]
    assert (app["active"], app["valid"]) == (False, "invalid")
