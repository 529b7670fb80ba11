# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The NanoMDM driver (``PUT /v1/enqueue/{ids}``) and NanoHUB's (the same API at ``/api/v1/nanomdm/``, KMFDDM's
declarations at ``/api/v1/ddm/``): §2.3 and §4.4 of ``mdm-servers-api.md``.

One raw plist command goes to up to 100 enrollment ids in one request; the result JSON says per id whether the
command was stored (``command_error``) and pushed (``push_error``). HTTP 200, 207 (some ids failed) and 500
carrying that JSON are all answers; a 500 without it is a server fault, retried by the transport.
"""

from __future__ import annotations

from urllib.parse import quote

from ansible_collections.mdm.vpp.plugins.module_utils import install_plan
from ansible_collections.mdm.vpp.plugins.module_utils.errors import MDMError
from ansible_collections.mdm.vpp.plugins.module_utils.mdm_classifier import (
    MDMClient,
    RawBody,
    enqueue_result,
    malformed,
)
from ansible_collections.mdm.vpp.plugins.module_utils.mdm_commands import command_plist
from ansible_collections.mdm.vpp.plugins.module_utils.mdm_kmfddm import KMFDDMDeclarations

RESULT_KEYS = ("status", "command_error", "push_error", "command_uuid", "no_push")
NO_PUSH_DATA = "push data missing for id"
UNKNOWN_ENROLLMENT = "%s (NanoMDM has no push data for it)" % install_plan.UNKNOWN_ENROLLMENT
# The command UUID is already stored: kv "command already exists: <uuid>", mysql "Duplicate entry '<uuid>' ...".
ALREADY_QUEUED = ("command already exists", "duplicate entry")
MAX_REASON = 200


def reason_text(text):
    text = str(text)
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 3] + "..."


def already_queued(error):
    return any(marker in str(error).lower() for marker in ALREADY_QUEUED)


def path_ids(ids):
    return ",".join(quote(each, safe=":") for each in ids)


class NanoMDMClient(MDMClient):
    """NanoMDM's v1 API: multi-target enqueue, Basic user ``nanomdm``."""

    service_name = "NanoMDM"
    user = "nanomdm"
    max_ids_per_enqueue = 100  # ~4 KB of path, under nginx's 8 KB request line
    enqueue_path = "/v1/enqueue/"

    @classmethod
    def definite(cls, answer):
        return (
            answer.status == 500 and isinstance(answer.payload, dict) and any(k in answer.payload for k in RESULT_KEYS)
        )

    def enqueue(self, command, enrollment_ids):
        ids = self.check_ids(enrollment_ids)
        if not ids:
            return enqueue_result()
        label = "PUT " + self.enqueue_path.rstrip("/")
        answer = self.request(
            "PUT", self.enqueue_path + path_ids(ids), label, (200, 207, 500), body=RawBody(command_plist(command))
        )
        return self.read_result(self.json_object(answer, label), ids, command["CommandUUID"], label)

    def read_result(self, result, ids, command_uuid, label):
        """``{"accepted", "refused", "push_failed"}`` from NanoMDM's result JSON for ``ids``."""
        statuses = result.get("status") or {}
        if not isinstance(statuses, dict) or not all(isinstance(each, dict) for each in statuses.values()):
            raise malformed(label, self.service_name, "its status is not a map of enrollment ids")
        command_error = result.get("command_error")
        if command_error:
            return self.refused_command(command_error, ids, label)
        # kv reports a per-id store error under the command UUID, not the id: it concerns every id
        stray = [s.get("command_error") for key, s in statuses.items() if key not in ids and s.get("command_error")]
        if stray:
            return self.refused_command(stray[0], ids, label)
        accepted, refused, push_failed = [], {}, {}
        top_push_error = result.get("push_error")
        for each in ids:
            status = statuses.get(each, {})
            if status.get("command_error"):
                if already_queued(status["command_error"]):
                    accepted.append(each)
                else:
                    refused[each] = "%s did not queue the command: %s" % (
                        self.service_name,
                        reason_text(status["command_error"]),
                    )
                continue
            push_error = status.get("push_error") or top_push_error
            if push_error and NO_PUSH_DATA in str(push_error):
                refused[each] = UNKNOWN_ENROLLMENT
                continue
            accepted.append(each)
            if push_error:
                push_failed[each] = reason_text(push_error)
        return enqueue_result(accepted, refused, push_failed)

    def refused_command(self, command_error, ids, label):
        """A top-level ``command_error``: queued by an earlier attempt (accepted), unreadable (our fault), or
        refused for every id (mysql refuses the whole enqueue for an unknown enrollment)."""
        if already_queued(command_error):
            return enqueue_result(ids)
        if str(command_error).startswith("decoding command"):
            raise MDMError(
                "%s: %s could not read the command: %s" % (label, self.service_name, reason_text(command_error)),
                hint="report it to the mdm.vpp maintainers",
            )
        reason = "%s queued the command for none of the %d enrollment(s) of this request: %s" % (
            self.service_name,
            len(ids),
            reason_text(command_error),
        )
        return enqueue_result(refused=dict.fromkeys(ids, reason))


class NanoHUBClient(KMFDDMDeclarations, NanoMDMClient):
    """NanoHUB: NanoMDM at ``/api/v1/nanomdm/``, KMFDDM at ``/api/v1/ddm/``; Basic user ``nanohub``."""

    service_name = "NanoHUB"
    user = "nanohub"
    enqueue_path = "/api/v1/nanomdm/enqueue/"
    ddm_path = "/api/v1/ddm"
    supports_declarations = True
