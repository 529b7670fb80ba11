# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a device may install an App Store app: the Apps and Books licence check a real device makes (§6).

``None`` licenses everything; a callable ``(adam_id: int, serial, client_user_ids) -> bool`` decides; a dict
``{"apple_sim_url": URL, "location": KEY}`` asks the Apple VPP stand-in's ``GET /_sim/state?location=KEY``.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request


class LicenseOracle:
    def __init__(self, spec=None):
        if spec is not None and not callable(spec) and not (isinstance(spec, dict) and "apple_sim_url" in spec):
            raise ValueError("license_oracle is None, a callable or {'apple_sim_url': ..., 'location': ...}")
        self.spec = spec

    def holders(self, adam_id):
        """``(serials, client user ids)`` holding a licence for ``adam_id`` at the Apple stand-in's location."""
        url = "%s/_sim/state?%s" % (
            self.spec["apple_sim_url"].rstrip("/"),
            urllib.parse.urlencode({"location": self.spec["location"]}),
        )
        with urllib.request.urlopen(url, timeout=10) as response:
            state = json.loads(response.read())
        # [assume] a user licence only serves a user whose Apple Account is associated (invitation accepted)
        associated = {user["clientUserId"] for user in state.get("users", ()) if user.get("status") == "Associated"}
        serials, users = set(), set()
        for assignment in state.get("assignments", ()):
            if str(assignment.get("adamId")) != str(adam_id):
                continue
            if assignment.get("serialNumber"):
                serials.add(assignment["serialNumber"])
            if assignment.get("clientUserId") in associated:
                users.add(assignment["clientUserId"])
        return serials, users

    def licensed(self, adam_id, serial, client_user_ids, kind=None):
        """``kind``: None (device or user licence), ``"device"`` or ``"user"`` (DDM ``License.Assignment``)."""
        if adam_id is None or self.spec is None:
            return True
        if callable(self.spec):
            serial_arg = serial if kind in (None, "device") else ""
            users_arg = list(client_user_ids) if kind in (None, "user") else []
            return bool(self.spec(int(adam_id), serial_arg, users_arg))
        serials, users = self.holders(adam_id)
        by_device = serial in serials
        by_user = bool(users.intersection(client_user_ids))
        if kind == "device":
            return by_device
        if kind == "user":
            return by_user
        return by_device or by_user

    def device_based(self, adam_id, serial):
        if adam_id is None or self.spec is None:
            return False
        if callable(self.spec):
            return bool(self.spec(int(adam_id), serial, []))
        return serial in self.holders(adam_id)[0]
