# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers for tests speaking plain HTTP to the MDM stand-in: commands, a client, a webhook receiver."""

from __future__ import annotations

import http.server
import json
import plistlib
import threading
import uuid as uuid_module

import requests

from .scenario import SMALL_SCENARIO, load_scenario

IPHONE = "00008030-001A2B3C4D5E802E"  # serial C02XK0AAJG5H (Pages device licence in the Apple stand-in)
IPAD = "00008101-000E3C2A1A90001E"  # client_user_id u-1
MAC = "564D1F3A-7B2C-4E8F-9A1B-2C3D4E5F6A7B"
MAC_USER = "1C2D3E4F-0000-4000-8000-0000000000BB"
NOT_ENROLLED = "00008030-0000000000NOTENR"
USERS = {"nanomdm": "nanomdm", "nanohub": "nanohub", "kmfddm": "kmfddm", "micromdm": "micromdm"}


def small_scenario(**settings):
    scenario = load_scenario(SMALL_SCENARIO)
    scenario.setdefault("settings", {}).update(settings)
    return scenario


def command(request_type, uuid=None, **keys):
    """A raw plist command (§1.1)."""
    body = {"CommandUUID": uuid or str(uuid_module.uuid4()), "Command": {"RequestType": request_type, **keys}}
    return plistlib.dumps(body)


class Client:
    """Basic-auth client with the flavor's fixed user name, plus the ``/_mdm/`` hooks."""

    def __init__(self, mdm, api_key="secret"):
        self.mdm = mdm
        self.session = requests.Session()
        self.session.auth = (USERS[mdm.flavor], api_key)

    def request(self, method, path, **kwargs):
        return self.session.request(method, self.mdm.url + path, timeout=10, **kwargs)

    def hook(self, method, path, body=None, **params):
        response = requests.request(method, self.mdm.root_url + "/_mdm" + path, json=body, params=params, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def connect(self, *ids, rounds=1):
        return self.hook("POST", "/devices/connect", {"ids": list(ids) or None, "rounds": rounds})


class Receiver:
    """A webhook endpoint on 127.0.0.1 recording raw bodies and headers; answers ``statuses`` in turn, then 200."""

    def __init__(self):
        self.received, self.statuses = [], []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append({"headers": dict(self.headers), "raw": raw, "body": json.loads(raw)})
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/webhook" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def events(self, topic=None):
        return [item["body"] for item in self.received if topic is None or item["body"]["topic"] == topic]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
