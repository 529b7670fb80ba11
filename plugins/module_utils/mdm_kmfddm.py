# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""KMFDDM's declaration API (§4.1 of ``mdm-servers-api.md``), as NanoHUB mounts it at ``/api/v1/ddm/``.

Writes answer 204 when they changed something and 304 when nothing changed; they are sent with ``nonotify=1``
and the devices are told once, at the end, with ``notify``.
"""

from __future__ import annotations

from urllib.parse import quote

from ansible_collections.mdm.vpp.plugins.module_utils.mdm_classifier import malformed

CHANGED, UNCHANGED = 204, 304
NO_NOTIFY = {"nonotify": "1"}
IDS_PER_REQUEST = 100


def chunks(items, size):
    items = [str(each) for each in items]
    return [items[start : start + size] for start in range(0, len(items), size)]


class KMFDDMDeclarations:
    """Mixin of an ``MDMClient`` whose server mounts KMFDDM at ``ddm_path``."""

    ddm_path = "/v1"

    def ddm_write(self, method, path, label, params=None, body=None):
        params = dict(params or {}, **NO_NOTIFY)
        answer = self.request(method, self.ddm_path + path, label, (CHANGED, UNCHANGED), params=params, body=body)
        return answer.status == CHANGED

    def label(self, method, name):
        return "%s %s/%s" % (method, self.ddm_path, name)

    def put_declaration(self, declaration):
        """Store ``declaration``; whether it changed."""
        return self.ddm_write("PUT", "/declarations", self.label("PUT", "declarations"), body=declaration)

    def put_set_declaration(self, set_name, declaration_id):
        """Put the declaration in the set; whether it changed."""
        return self.ddm_write(
            "PUT",
            "/set-declarations/" + quote(set_name, safe=""),
            self.label("PUT", "set-declarations"),
            params={"declaration": declaration_id},
        )

    def set_enrollment_set(self, enrollment_id, set_name, present):
        """Add (``present``) or remove the enrollment's set; whether it changed."""
        method = "PUT" if present else "DELETE"
        return self.ddm_write(
            method,
            "/enrollment-sets/" + quote(str(enrollment_id), safe=":"),
            self.label(method, "enrollment-sets"),
            params={"set": set_name},
        )

    def notify(self, enrollment_ids):
        """Tell the enrollments to fetch their declarations; the number of requests sent."""
        sent = 0
        for batch in chunks(enrollment_ids, IDS_PER_REQUEST):
            self.request(
                "POST", self.ddm_path + "/notify", self.label("POST", "notify"), (200, 204), params={"id": batch}
            )
            sent += 1
        return sent

    def declaration_status(self, enrollment_ids):
        """``{enrollment id: [declaration status, ...]}`` of the enrollments (missing ones left out)."""
        found = {}
        label = self.label("GET", "declaration-status")
        for batch in chunks(enrollment_ids, IDS_PER_REQUEST):
            path = "/declaration-status/" + ",".join(quote(each, safe=":") for each in batch)
            answer = self.request("GET", self.ddm_path + path, label, (200,))
            statuses = self.json_object(answer, label, null_ok=True) or {}
            if not all(isinstance(each, list) or each is None for each in statuses.values()):
                raise malformed(label, self.service_name, "a declaration status is not a list")
            found.update({key: value or [] for key, value in statuses.items()})
        return found

    def status_report(self, enrollment_id):
        """The enrollment's latest status report (JSON object), or ``None`` when it has sent none."""
        label = self.label("GET", "status-report")
        path = "/status-report/" + quote(str(enrollment_id), safe=":")
        answer = self.request("GET", self.ddm_path + path, label, (200, 404), params={"index": "0"})
        if answer.status == 404:
            return None
        return self.json_object(answer, label)
