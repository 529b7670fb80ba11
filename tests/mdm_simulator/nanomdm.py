# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""NanoMDM API (``/v1/...``; NanoHUB mounts it at ``/api/v1/nanomdm/``): enqueue, push, pushcert (§2.1-§2.4)."""

from __future__ import annotations

from .model import CommandError, decode_command
from .responses import NOT_FOUND, json_answer

MYSQL_FK_ERROR = (
    "Error 1452 (23000): Cannot add or update a child row: a foreign key constraint fails (`nanomdm`.`enrollment_queue`"
    ", CONSTRAINT `enrollment_queue_ibfk_1` FOREIGN KEY (`id`) REFERENCES `enrollments` (`id`) ON DELETE CASCADE ON "
    "UPDATE CASCADE)"
)


def api_result(result):
    """HTTP status of an API result (api/api.go#L66-128): 500 on a top-level error or when every ID failed, 207 when
    some failed, else 200."""
    if result.get("push_error") or result.get("command_error"):
        return 500
    entries = result.get("status") or {}
    failed = sum(1 for entry in entries.values() if entry.get("push_error") or entry.get("command_error"))
    if entries and failed == len(entries):
        return 500
    return 207 if failed else 200


def answer(result):
    return json_answer(api_result(result), result, indent="\t")  # tab-indented (http/api/api.go#L19-39)


def split_ids(text):
    return [item for item in text.split(",") if item] if text else []


def handle(sim, method, path, query, body):
    """``path`` is relative to the API root (``/enqueue/ID``); no method check (§2.1)."""
    if path.startswith("/enqueue/"):
        return enqueue(sim, path[len("/enqueue/") :], query, body)
    if path.startswith("/push/"):
        return push_only(sim, split_ids(path[len("/push/") :]))
    if path == "/pushcert" and method == "GET":
        return json_answer(200, {"topic": sim.push_topic, "not_after": "2030-01-01T00:00:00Z"})
    return NOT_FOUND


def push_only(sim, ids):
    if not ids:
        return answer({"push_error": "getting enrollment ids: empty path"})  # §2.4
    result = {}
    sim.push_many(ids, result)
    return answer(result)


def enqueue(sim, ids_text, query, body):
    ids = split_ids(ids_text)
    nopush = bool((query.get("nopush") or [""])[0])  # any non-empty value (§2.3)
    if not ids:
        return answer({"command_error": "getting enrollment ids: empty path"})
    if not body:
        if nopush:
            return answer({"command_error": "must enqueue or push"})  # api/api.go#L80-82
        return push_only(sim, ids)  # empty body: push only (§5.5)
    try:
        uuid, command = decode_command(body)
    except CommandError as error:
        return answer({"command_error": "decoding command: %s" % error})  # §5.6
    result = {}
    error = sim.enqueue_nano(ids, uuid, command, body)
    if error:
        result["command_error"] = error  # nothing queued, no push (§5.2 mysql, §5.4)
    elif nopush:
        result["no_push"] = True
    else:
        sim.push_many(ids, result)  # pushes go to all IDs (api/api.go#L88-91)
    result["command_uuid"] = uuid
    result["request_type"] = command.get("RequestType")
    return answer(result)


def enqueue_error(sim, ids, uuid):
    """The storage's refusal of an enqueue, or None (§2.3 storage table). Called with the lock held."""
    if sim.backend == "mysql":
        if uuid in sim.command_uuids:
            return "Error 1062 (23000): Duplicate entry '%s' for key 'commands.PRIMARY'" % uuid
        if any(enrollment_id not in sim.enrollments for enrollment_id in ids):
            return MYSQL_FK_ERROR  # the whole transaction fails
        return None
    if uuid in sim.command_uuids:
        return "command already exists: %s" % uuid  # storage/kv/queue.go#L111-115
    return None  # kv: no existence check for the IDs
