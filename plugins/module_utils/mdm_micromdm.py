# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The MicroMDM driver (§3 of ``mdm-servers-api.md``): one device per command, through the raw plist endpoint
``PUT /v1/commands/{udid}`` (the JSON one cannot say ``InstallAsManaged``), and serial number lookup through
``POST /v1/devices``.

MicroMDM queues any UDID and pushes on its own, reporting nothing of the push: an enqueue is accepted or fails.
"""

from __future__ import annotations

from urllib.parse import quote

from ansible_collections.mdm.vpp.plugins.module_utils.mdm_classifier import (
    MDMClient,
    RawBody,
    enqueue_result,
    malformed,
)
from ansible_collections.mdm.vpp.plugins.module_utils.mdm_commands import command_plist
from ansible_collections.mdm.vpp.plugins.module_utils.vocabulary import normalize_serial

SERIALS_PER_REQUEST = 500


class MicroMDMClient(MDMClient):
    """MicroMDM's v1 API; Basic user ``micromdm``."""

    service_name = "MicroMDM"
    user = "micromdm"
    max_ids_per_enqueue = 1
    supports_serial_lookup = True

    def enqueue(self, command, enrollment_ids):
        ids = self.check_ids(enrollment_ids)
        if not ids:
            return enqueue_result()
        label = "PUT /v1/commands"
        path = "/v1/commands/" + quote(ids[0], safe="")
        answer = self.request("PUT", path, label, (200, 201), body=RawBody(command_plist(command)))
        queued = self.json_object(answer, label).get("payload")
        if not isinstance(queued, dict) or not queued.get("command_uuid"):
            raise malformed(label, self.service_name, "no payload with the command's uuid")
        return enqueue_result(ids)

    def serials_to_enrollments(self, serials):
        """``{serial: udid}`` of the devices MicroMDM knows among ``serials`` (as given; matched by case)."""
        wanted = {normalize_serial(serial): serial for serial in serials}
        found = {}
        label = "POST /v1/devices"
        names = list(wanted)
        for start in range(0, len(names), SERIALS_PER_REQUEST):
            batch = names[start : start + SERIALS_PER_REQUEST]
            answer = self.request("POST", "/v1/devices", label, (200,), body={"filter_serial": batch})
            devices = self.json_object(answer, label).get("devices") or []
            if not isinstance(devices, list) or not all(isinstance(each, dict) for each in devices):
                raise malformed(label, self.service_name, "devices is not a list of devices")
            for device in devices:
                serial = normalize_serial(device.get("serial_number") or "")
                if serial in wanted and device.get("udid"):
                    found[wanted[serial]] = str(device["udid"])
        return found
