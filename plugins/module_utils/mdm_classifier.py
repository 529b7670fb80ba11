# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How an MDM server's answers reach its driver, and the contract every MDM driver implements (``MDMClient``).

The servers' API (NanoMDM, NanoHUB, MicroMDM, KMFDDM) speaks HTTP Basic with a fixed user and the API key as
password, JSON answers, and for commands a raw XML plist body (§2.3, §3.1 of ``mdm-servers-api.md``). On the
one ``transport.Transport``:

- 401/403: ``MDMRefusedError`` at once (never retried, never naming the key);
- 429 and 5xx: retried by the transport, unless the driver calls the answer definite (NanoMDM's 500 with its
  result JSON: ``command_error``) — then it is handed to the driver like any other;
- every other answer is handed to the driver as an ``MDMAnswer``, which checks the status and the shape it
  expects: a malformed answer is an ``MDMError`` (not retried), never data.
"""

from __future__ import annotations

import contextlib
import json

from ansible_collections.mdm.vpp.plugins.module_utils.errors import MDMError, MDMRefusedError
from ansible_collections.mdm.vpp.plugins.module_utils.transport import Classifier

MAX_SERVER_TEXT = 200  # characters of a server's error text quoted in a message
PLIST = "application/x-apple-plist"


class RawBody:
    """A request body sent as it is (a command's XML plist), with its content type."""

    def __init__(self, content, content_type=PLIST):
        self.content = content
        self.content_type = content_type


class MDMAnswer:
    """One HTTP answer of the MDM server: ``status``, the raw ``content`` and its JSON ``payload`` (``None`` when
    the body is empty or not JSON; ``is_json`` tells which)."""

    def __init__(self, status, content):
        self.status = status
        self.content = content or b""
        self.payload, self.is_json = None, False
        if self.content.strip():
            with contextlib.suppress(ValueError):
                self.payload, self.is_json = json.loads(self.content), True

    def server_text(self):
        """The server's own error text (``{"error": ...}`` or a short plain body), bounded; ``""`` if none."""
        if isinstance(self.payload, dict):
            text = self.payload.get("error") or self.payload.get("command_error") or ""
        elif not self.is_json:
            text = self.content[:MAX_SERVER_TEXT].decode("utf-8", "replace").strip()
        else:
            text = ""
        text = str(text)
        return text if len(text) <= MAX_SERVER_TEXT else text[: MAX_SERVER_TEXT - 3] + "..."


class MDMClassifier(Classifier):
    """The ``transport.Classifier`` of an MDM server; ``definite(answer)`` tells a 5xx that is an answer."""

    def __init__(self, service_name, definite=None):
        self.service_name = service_name
        self.definite = definite or (lambda answer: False)

    def failure(self, label, reason):
        return MDMError("%s: %s gave no usable answer: %s" % (label, self.service_name, reason))

    def decode(self, response, label):
        status = response.status_code
        if status in (401, 403):
            raise MDMRefusedError(
                "%s: the MDM server (%s) refused the API key (HTTP %d)" % (label, self.service_name, status),
                http_status=status,
            )
        answer = MDMAnswer(status, response.content)
        if (status == 429 or status >= 500) and not self.definite(answer):
            raise unexpected(label, self.service_name, answer)
        return answer

    def is_retryable(self, error, status):
        return status == 429 or status >= 500


def unexpected(label, service_name, answer):
    """The ``MDMError`` of an answer whose HTTP status the reference does not give for this request."""
    text = answer.server_text()
    return MDMError(
        "%s: %s answered HTTP %d%s" % (label, service_name, answer.status, ": %s" % text if text else ""),
        http_status=answer.status,
    )


def malformed(label, service_name, what):
    """The ``MDMError`` of an answer that is not what the server's API gives (``what`` says how)."""
    return MDMError(
        "%s: %s's answer is malformed (%s); nothing was taken from it" % (label, service_name, what),
        hint="check that mdm_url and mdm_type name this MDM server's API; report it if it persists",
    )


class MDMClient:
    """The contract of an MDM driver (NanoMDM, NanoHUB, MicroMDM): what the deployments ask of an MDM server.

    A driver sets the class attributes and implements ``enqueue``; ``serials_to_enrollments`` and the
    declaration methods are optional (``supports_serial_lookup``, ``supports_declarations``).
    """

    service_name = "the MDM server"
    user = None  # the fixed HTTP Basic user of the flavor
    max_ids_per_enqueue = 1
    supports_serial_lookup = False
    supports_declarations = False

    def __init__(self, transport, url):
        self.transport = transport
        self.url = url.rstrip("/")

    def __repr__(self):
        return "<%s %s>" % (type(self).__name__, self.url)

    @classmethod
    def definite(cls, answer):
        """Whether a 5xx ``answer`` is a definite answer of the server (handed over, never retried)."""
        return False

    def close(self):
        self.transport.close()

    def request(self, method, path, label, expect, *, params=None, body=None):
        """One request to ``url + path``; the ``MDMAnswer`` if its status is one of ``expect``, else ``MDMError``."""
        if isinstance(body, RawBody):
            headers = {"Content-Type": body.content_type}
            answer = self.transport.send(
                method, self.url + path, label, params=params, data=body.content, headers=headers
            )
        else:
            answer = self.transport.send(method, self.url + path, label, params=params, json=body)
        if answer.status not in expect:
            raise unexpected(label, self.service_name, answer)
        return answer

    def json_object(self, answer, label, null_ok=False):
        """The answer's JSON object (``None`` for JSON ``null`` when ``null_ok``), else a malformed ``MDMError``."""
        if null_ok and answer.is_json and answer.payload is None:
            return None
        if not isinstance(answer.payload, dict):
            raise malformed(label, self.service_name, "not a JSON object")
        return answer.payload

    def check_ids(self, enrollment_ids):
        ids = [str(each) for each in enrollment_ids]
        if len(ids) > self.max_ids_per_enqueue:
            raise ValueError(
                "%s takes at most %d enrollment ids per enqueue, not %d"
                % (self.service_name, self.max_ids_per_enqueue, len(ids))
            )
        return ids

    def unsupported(self, what):
        return MDMError("%s cannot %s" % (self.service_name, what), hint=None)

    def enqueue(self, command, enrollment_ids):
        """Queue ``command`` for ``enrollment_ids``: ``{"accepted": [...], "refused": {...}, "push_failed": {...}}``."""
        raise NotImplementedError

    def serials_to_enrollments(self, serials):
        raise self.unsupported("look enrollments up by serial number (only MicroMDM can)")

    def put_declaration(self, declaration):
        raise self.unsupported("take declarations (only NanoHUB, with KMFDDM, can)")

    def put_set_declaration(self, set_name, declaration_id):
        raise self.unsupported("take declarations (only NanoHUB, with KMFDDM, can)")

    def set_enrollment_set(self, enrollment_id, set_name, present):
        raise self.unsupported("take declarations (only NanoHUB, with KMFDDM, can)")

    def notify(self, enrollment_ids):
        raise self.unsupported("take declarations (only NanoHUB, with KMFDDM, can)")

    def declaration_status(self, enrollment_ids):
        raise self.unsupported("report declaration status (only NanoHUB, with KMFDDM, can)")

    def status_report(self, enrollment_id):
        raise self.unsupported("report declaration status (only NanoHUB, with KMFDDM, can)")


def enqueue_result(accepted=(), refused=None, push_failed=None):
    return {"accepted": list(accepted), "refused": dict(refused or {}), "push_failed": dict(push_failed or {})}
