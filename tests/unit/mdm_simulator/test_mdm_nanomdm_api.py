# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NanoMDM / NanoHUB enqueue and push API contract (§2.2-§2.4; §5 items 1-7)."""

from __future__ import annotations

import base64
import json
import plistlib

import pytest
import requests

from tests.mdm_simulator.testing import IPAD, IPHONE, NOT_ENROLLED, Client, command
from tests.mdm_simulator.webhooks import signature


@pytest.mark.parametrize(
    ("flavor", "user", "realm"),
    [("nanomdm", "nanomdm", "nanomdm"), ("nanohub", "nanohub", "NanoHUB API"), ("kmfddm", "kmfddm", "kmfddm")],
)
def test_auth_failures(mdm_factory, flavor, user, realm):
    """§5.1: 401, text body, Www-Authenticate with the realm; the user name is fixed."""
    mdm = mdm_factory(flavor=flavor)
    path = {"nanomdm": "/v1/push/X", "nanohub": "/api/v1/nanomdm/push/X", "kmfddm": "/v1/declarations"}[flavor]
    for auth in [None, ("admin", "secret"), (user, "wrong")]:
        response = requests.get(mdm.url + path, auth=auth, timeout=5)
        assert response.status_code == 401
        assert response.text == "Unauthorized\n"
        assert response.headers["Www-Authenticate"] == 'Basic realm="%s"' % realm
        assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert requests.get(mdm.url + path, auth=(user, "secret"), timeout=5).status_code != 401
    version = requests.get(mdm.url + "/version", timeout=5)  # unauthenticated
    assert version.status_code == 200
    assert "version" in version.json()


def test_unknown_enrollment_kv_vs_mysql(mdm_factory):
    """§5.2: kv stores and fails the push per ID (207 / 500); mysql fails the whole enqueue (500, nothing queued)."""
    kv = Client(mdm_factory(flavor="nanomdm"))
    mixed = kv.request("PUT", "/v1/enqueue/%s,UNKNOWN" % IPHONE, data=command("ProfileList", "p-1"))
    assert mixed.status_code == 207
    assert mixed.json()["status"]["UNKNOWN"] == {"push_error": "push data missing for id"}
    assert kv.hook("GET", "/queue", id="UNKNOWN") == [{"uuid": "p-1", "request_type": "ProfileList", "not_now": False}]
    alone = kv.request("PUT", "/v1/enqueue/UNKNOWN", data=command("ProfileList", "p-2"))
    assert alone.status_code == 500
    assert "command_error" not in alone.json()
    mysql = Client(mdm_factory(flavor="nanomdm", backend="mysql"))
    refused = mysql.request("PUT", "/v1/enqueue/%s,UNKNOWN" % IPHONE, data=command("ProfileList", "p-3"))
    assert refused.status_code == 500
    body = refused.json()
    assert "foreign key constraint fails" in body["command_error"]
    assert "status" not in body
    assert mysql.hook("GET", "/queue", id=IPHONE) == []
    assert mysql.request("PUT", "/v1/enqueue/%s" % IPHONE, data=command("ProfileList", "p-3")).status_code == 200


def test_multi_id_enqueue_webhook_per_result_with_hmac(nano, receiver):
    """§5.3 + §5.19: one UUID for many IDs, tab-indented result; one signed mdm.Connect event per result."""
    response = nano.request("PUT", "/v1/enqueue/%s,%s" % (IPHONE, IPAD), data=command("ProfileList", "multi-1"))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.text.startswith('{\n\t"status": {')
    body = response.json()
    assert set(body["status"]) == {IPHONE, IPAD}
    assert all(set(entry) == {"push_result"} for entry in body["status"].values())
    assert (body["command_uuid"], body["request_type"]) == ("multi-1", "ProfileList")
    results = nano.connect(IPHONE, IPAD)
    assert [(r["id"], r["command_uuid"], r["status"]) for r in results] == [
        (IPHONE, "multi-1", "Acknowledged"),
        (IPAD, "multi-1", "Acknowledged"),
    ]
    acks = [item for item in receiver.received if item["body"].get("acknowledge_event", {}).get("command_uuid")]
    assert len(acks) == 2
    for item in acks:
        assert item["headers"]["X-Hmac-Signature"] == signature("hmac-key", item["raw"])
        assert item["headers"]["Content-Type"] == "application/json; charset=utf-8"
        event = item["body"]
        assert event["topic"] == "mdm.Connect"
        assert len(event["event_id"]) == 16
        ack = event["acknowledge_event"]
        assert ack["ids"] == {"id": ack["udid"], "type": "Device"}
        report = plistlib.loads(base64.b64decode(ack["raw_payload"]))
        assert report == {"UDID": ack["udid"], "CommandUUID": "multi-1", "Status": "Acknowledged"}


def test_duplicate_command_uuid(mdm_factory):
    """§5.4: kv 500 ``command already exists``; mysql 500 primary-key error."""
    for backend, text in [("kv", "command already exists: dup-1"), ("mysql", "Duplicate entry 'dup-1'")]:
        client = Client(mdm_factory(flavor="nanomdm", backend=backend))
        assert client.request("PUT", "/v1/enqueue/" + IPHONE, data=command("ProfileList", "dup-1")).status_code == 200
        again = client.request("PUT", "/v1/enqueue/" + IPAD, data=command("ProfileList", "dup-1"))
        assert again.status_code == 500
        assert text in again.json()["command_error"]
        assert client.hook("GET", "/queue", id=IPAD) == []


def test_nopush_and_empty_body_rules(nano):
    """§5.5: ?nopush -> no_push, no status, 200; empty body + nopush -> 500; empty body alone -> push only."""
    quiet = nano.request("PUT", "/v1/enqueue/%s?nopush=1" % IPHONE, data=command("ProfileList", "np-1"))
    assert quiet.status_code == 200
    assert quiet.json() == {"no_push": True, "command_uuid": "np-1", "request_type": "ProfileList"}
    refused = nano.request("PUT", "/v1/enqueue/%s?nopush=1" % IPHONE)
    assert refused.status_code == 500
    assert refused.json()["command_error"] == "must enqueue or push"
    push_only = nano.request("PUT", "/v1/enqueue/%s" % IPHONE)
    assert push_only.status_code == 200
    assert set(push_only.json()) == {"status"}
    assert [item["uuid"] for item in nano.hook("GET", "/queue", id=IPHONE)] == ["np-1"]


@pytest.mark.parametrize(
    "body",
    [b"not a plist", plistlib.dumps({"Command": {"RequestType": "ProfileList"}}), plistlib.dumps({"CommandUUID": "x"})],
)
def test_malformed_command(nano, body):
    """§5.6: 500 with ``decoding command: ...``."""
    response = nano.request("PUT", "/v1/enqueue/" + IPHONE, data=body)
    assert response.status_code == 500
    assert response.json()["command_error"].startswith("decoding command: ")
    if body != b"not a plist":
        assert response.json()["command_error"] == "decoding command: invalid command"


def test_push_failures(nano):
    """§5.7: no TokenUpdate / unknown -> push data missing; APNs 410; missing cert; empty id list."""
    nano.hook("POST", "/configure", {"fail_push_for": [IPAD]})
    response = nano.request("GET", "/v1/push/%s,%s,%s" % (IPHONE, IPAD, NOT_ENROLLED))
    assert response.status_code == 207
    status = response.json()["status"]
    assert "push_result" in status[IPHONE]
    assert status[IPAD] == {"push_error": "push HTTP status: 410: APNs push error: Unregistered"}
    assert status[NOT_ENROLLED] == {"push_error": "push data missing for id"}
    assert "command_uuid" not in response.json()
    empty = nano.request("GET", "/v1/push/")
    assert (empty.status_code, empty.json()) == (500, {"push_error": "getting enrollment ids: empty path"})
    nano.hook("POST", "/configure", {"push_cert": False})
    no_cert = nano.request("GET", "/v1/push/" + IPHONE)
    assert no_cert.status_code == 500
    assert no_cert.json()["push_error"].startswith('retrieving push cert for topic "com.apple.mgmt.External.')


def test_nanohub_mounts(hub):
    """§4.4: NanoMDM API at /api/v1/nanomdm/, no /v1/ root."""
    assert hub.request("PUT", "/api/v1/nanomdm/enqueue/" + IPHONE, data=command("ProfileList")).status_code == 200
    assert hub.request("PUT", "/v1/enqueue/" + IPHONE, data=command("ProfileList")).status_code == 404
    assert hub.hook("GET", "/request_counts") == {"PUT /api/v1/nanomdm/enqueue": 1, "PUT /v1/enqueue": 1}


def test_body_bound_and_faults(nano):
    """Bodies beyond max_body answer 413; injected faults come before auth."""
    nano.hook("POST", "/configure", {"max_body": 1000})
    assert nano.request("PUT", "/v1/enqueue/" + IPHONE, data=b"x" * 2000).status_code == 413
    nano.hook("POST", "/faults", {"kind": "503", "count": 1, "path": "/v1/enqueue"})
    assert nano.request("PUT", "/v1/enqueue/" + IPHONE, data=command("ProfileList")).status_code == 503
    assert nano.request("PUT", "/v1/enqueue/" + IPHONE, data=command("ProfileList")).status_code == 200
    nano.hook("POST", "/faults", {"kind": "drop"})
    with pytest.raises(requests.ConnectionError):
        nano.request("GET", "/v1/push/" + IPHONE)
    log = nano.hook("GET", "/request_log")
    assert [entry["status"] for entry in log][-2:] == [200, None]
    assert json.dumps(log)  # plain JSON
