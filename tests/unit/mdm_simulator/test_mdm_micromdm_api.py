# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""MicroMDM API contract (§3; §5 items 1, 2, 4, 6, 7, 21)."""

from __future__ import annotations

import base64
import plistlib

import requests

from tests.mdm_simulator.testing import IPHONE, MAC_USER, command


def settle(client):
    for timer in list(client.mdm.timers):
        timer.join()


def test_micromdm_auth_failure_is_json(micro):
    """§5.1: 401 JSON {"error":"Unauthorized"}, realm micromdm; a bad body answers its decode error first."""
    response = requests.post(micro.mdm.url + "/v1/commands", json={"udid": "x"}, auth=("micromdm", "no"), timeout=5)
    assert response.status_code == 401
    assert response.json() == {"error": "Unauthorized"}
    assert response.headers["Www-Authenticate"] == 'Basic realm="micromdm"'
    decode_first = requests.post(micro.mdm.url + "/v1/commands", data=b"", auth=("micromdm", "no"), timeout=5)
    assert (decode_first.status_code, decode_first.json()) == (500, {"error": "EOF"})


def test_json_command_mapping_and_asynchrony(micro):
    """§3.3 + §5.21: 201, 2-space JSON echo; managed_appd_only accepted; the command lands a little later."""
    micro.mdm.configure(micromdm_queue_delay=0.3)
    body = {"udid": IPHONE, "request_type": "InstallApplication", "itunes_store_id": 361309726,
            "options": {"purchase_method": 1}, "management_flags": 1, "install_as_managed": True}  # fmt: skip
    response = micro.request("POST", "/v1/commands", json=body)
    assert response.status_code == 201
    assert response.text.startswith('{\n  "payload": {')
    payload = response.json()["payload"]
    assert payload["command"] == {"request_type": "InstallApplication", "itunes_store_id": 361309726,
                                  "management_flags": 1, "options": {"purchase_method": 1}}  # fmt: skip
    assert micro.request("GET", "/v1/commands/" + IPHONE).json() == {}  # not yet stored (pubsub worker)
    settle(micro)
    [queued] = micro.request("GET", "/v1/commands/" + IPHONE).json()["commands"]
    assert queued["uuid"] == payload["command_uuid"]
    plist = plistlib.loads(base64.b64decode(queued["payload"]))
    assert "InstallAsManaged" not in plist["Command"]  # not expressible through the JSON API
    listing = {"udid": IPHONE, "request_type": "InstalledApplicationList", "managed_appd_only": True}
    response = micro.request("POST", "/v1/commands", json=listing)
    assert response.json()["payload"]["command"]["managed_appd_only"] is True


def test_json_command_errors(micro):
    """§5.6: missing udid / unknown RequestType are 500 JSON errors."""
    missing = micro.request("POST", "/v1/commands", json={"request_type": "ProfileList"})
    assert (missing.status_code, missing.json()) == (500, {"error": "request must contain UDID of the device"})
    unknown = micro.request("POST", "/v1/commands", json={"udid": IPHONE, "request_type": "Bogus"})
    assert (unknown.status_code, unknown.json()) == (500, {"error": "mdm: unknown RequestType: Bogus"})


def test_raw_command_endpoint(micro):
    """§3.1: PUT/POST raw plist -> 201 with base64 payload; malformed -> 500; duplicates accepted (§5.4);
    any UDID gets its own queue (§5.2); DELETE clears."""
    raw = command("ProfileList", "raw-1")
    response = micro.request("PUT", "/v1/commands/" + IPHONE, data=raw)
    assert response.status_code == 201
    assert response.json() == {"payload": {"udid": IPHONE, "command_uuid": "raw-1",
                                           "command": {"request_type": "ProfileList"},
                                           "payload": base64.b64encode(raw).decode()}}  # fmt: skip
    assert micro.request("POST", "/v1/commands/" + IPHONE, data=raw).status_code == 201
    assert micro.request("POST", "/v1/commands/NOBODY", data=raw).status_code == 201
    bad = micro.request("PUT", "/v1/commands/" + IPHONE, data=plistlib.dumps({"CommandUUID": "x"}))
    assert (bad.status_code, bad.json()) == (500, {"error": "request is malformed"})
    not_plist = micro.request("PUT", "/v1/commands/" + IPHONE, data=b"{}")
    assert not_plist.json()["error"].startswith("parse payload as plist: ")
    settle(micro)
    assert len(micro.request("GET", "/v1/commands/" + IPHONE).json()["commands"]) == 2
    assert len(micro.request("GET", "/v1/commands/NOBODY").json()["commands"]) == 1
    assert micro.request("DELETE", "/v1/commands/" + IPHONE).json() == {}
    assert micro.request("GET", "/v1/commands/" + IPHONE).json() == {}


def test_devices_filter_serial(micro):
    """§3.5: only filter_serial applies; empty body is a decode error; no match -> devices null."""
    found = micro.request("POST", "/v1/devices", json={"filter_serial": ["C02XK0AAJG5H"], "filter_udid": ["x"]})
    assert [d["udid"] for d in found.json()["devices"]] == [IPHONE]
    assert micro.request("POST", "/v1/devices", json={"filter_serial": ["NONE"]}).json() == {"devices": None}
    assert len(micro.request("POST", "/v1/devices", json={}).json()["devices"]) == 4
    assert micro.request("POST", "/v1/devices").status_code == 500


def test_micromdm_push_and_user_channel_queue(micro):
    """§3.4: push answer; §3.6: a user channel's queue key is the UserID."""
    ok = micro.request("POST", "/v1/push/" + IPHONE)
    assert ok.status_code == 200 and ok.json()["status"] == "success"
    failed = micro.request("POST", "/v1/push/NOBODY")
    assert failed.status_code == 500 and failed.json()["error"].startswith("retrieving PushInfo by UDID: ")
    micro.request("PUT", "/v1/commands/" + MAC_USER, data=command("ProfileList", "uc-1"))
    settle(micro)
    assert micro.connect(MAC_USER)[0]["command_uuid"] == "uc-1"
