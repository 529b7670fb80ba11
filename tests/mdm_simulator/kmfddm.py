# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""KMFDDM API (§4.1; NanoHUB mounts it at ``/api/v1/ddm/``): declarations, sets, enrollment sets, status, notify."""

from __future__ import annotations

import email.utils
import hashlib
import json

from .responses import NOT_FOUND, empty_answer, json_answer

FALSE_WORDS = ("", "0", "false", "no", "off")  # api.go#L64-74


class DDMStore:
    def __init__(self):
        self.declarations = {}  # id -> declaration dict (with ServerToken)
        self.sets = {}  # set name -> [declaration ids]
        self.enrollment_sets = {}  # enrollment id -> [set names]
        self.reports = {}  # enrollment id -> [report dicts], newest first
        self.status = {}  # enrollment id -> {declaration id: status dict}
        self.report_counter = 0

    def effective(self, enrollment_id):
        """Declarations reaching an enrollment through its sets, in a stable order."""
        ids = []
        for set_name in self.enrollment_sets.get(enrollment_id, ()):
            ids.extend(item for item in self.sets.get(set_name, ()) if item not in ids and item in self.declarations)
        return [self.declarations[item] for item in ids]

    def tokens(self, enrollment_id):
        joined = "".join(decl["ServerToken"] for decl in self.effective(enrollment_id))
        return {"SyncTokens": {"DeclarationsToken": hashlib.sha256(joined.encode()).hexdigest()[:32],
                               "Timestamp": email.utils.formatdate(usegmt=True)}}  # fmt: skip

    def affected(self, declarations=(), sets=(), ids=()):
        """Enrollment IDs to notify (notifier.go#L65-111)."""
        wanted_sets = set(sets)
        for declaration in declarations:
            wanted_sets.update(name for name, members in self.sets.items() if declaration in members)
        result = list(dict.fromkeys(ids))
        for enrollment_id, names in self.enrollment_sets.items():
            if wanted_sets.intersection(names) and enrollment_id not in result:
                result.append(enrollment_id)
        return result


def server_token(declaration):
    canonical = json.dumps({key: declaration.get(key) for key in ("Type", "Payload")}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def error(status, text):
    return json_answer(status, {"error": text})


def arg(query, name):
    return (query.get(name) or [""])[0]


def listing(values):
    return json_answer(200, list(values) or None)  # empty results encode as null (§4.1, §5.20)


def changed_answer(changed):
    return empty_answer(204 if changed else 304)


def handle(sim, method, path, query, body):
    """``path`` relative to the KMFDDM API root (``/declarations``). Called with the simulator lock held."""
    store = sim.ddm
    notify = arg(query, "nonotify").lower() in FALSE_WORDS
    parts = [part for part in path.split("/") if part]
    if not parts:
        return NOT_FOUND
    head, rest = parts[0], "/".join(parts[1:])
    if head == "declarations":
        return declarations(sim, store, method, parts[1:], body, notify)
    if head == "sets" and method == "GET" and not rest:
        return listing(sorted(name for name, members in store.sets.items() if members))
    if head == "set-declarations" and rest:
        return membership(sim, method, store.sets, rest, arg(query, "declaration"), notify, "set")
    if head == "enrollment-sets" and rest:
        return membership(sim, method, store.enrollment_sets, rest, arg(query, "set"), notify, "id")
    if head == "enrollment-sets-all" and len(parts) == 3 and parts[1] == "sets" and method == "DELETE":
        changed = bool(store.enrollment_sets.pop(parts[2], None))  # route as in code (v1.go#L115-119)
        if changed and notify:
            sim.notify(ids=[parts[2]])
        return changed_answer(changed)
    if head == "declaration-sets" and rest and method == "GET":
        return listing(name for name, members in store.sets.items() if rest in members)
    if head == "declaration-status" and rest and method == "GET":
        found = {eid: list(store.status[eid].values()) for eid in rest.split(",") if store.status.get(eid)}
        return json_answer(200, found)
    if head == "status-report" and rest and method == "GET":
        return status_report(store, rest, query)
    if head == "notify" and method == "POST":
        sim.notify(query.get("declaration", ()), query.get("set", ()), query.get("id", ()))
        return empty_answer(204)
    return NOT_FOUND


def declarations(sim, store, method, parts, body, notify):
    if not parts:
        if method == "GET":
            return listing(sorted(store.declarations))
        if method != "PUT":
            return NOT_FOUND
        try:
            declaration = json.loads(body or b"null")
        except ValueError as failure:
            return error(400, "decoding declaration: %s" % failure)
        problem = invalid(declaration)
        if problem:
            return error(400, "validating declaration: %s" % problem)  # ddm/declaration.go
        declaration = {key: declaration[key] for key in ("Identifier", "Type", "Payload")}
        declaration["ServerToken"] = server_token(declaration)
        previous = store.declarations.get(declaration["Identifier"])
        changed = previous != declaration
        store.declarations[declaration["Identifier"]] = declaration
        if changed and notify:
            sim.notify(declarations=[declaration["Identifier"]])
        return changed_answer(changed)  # 204 changed / 304 unchanged (declarations.go#L17-67)
    identifier = parts[0]
    if len(parts) == 2 and parts[1] == "touch" and method == "POST":
        if identifier not in store.declarations:
            return error(404, "declaration not found")
        declaration = store.declarations[identifier]
        declaration["ServerToken"] = hashlib.sha256((declaration["ServerToken"] + "t").encode()).hexdigest()[:16]
        sim.notify(declarations=[identifier])  # touch always notifies
        return empty_answer(204)
    if method == "GET":
        if identifier not in store.declarations:
            return error(404, "declaration not found")
        return json_answer(200, store.declarations[identifier])
    if method == "DELETE":
        changed = store.declarations.pop(identifier, None) is not None
        for members in store.sets.values():
            if identifier in members:
                members.remove(identifier)
        return changed_answer(changed)  # no notification
    return NOT_FOUND


def invalid(declaration):
    if not isinstance(declaration, dict):
        return "not an object"
    if not isinstance(declaration.get("Identifier"), str) or not declaration["Identifier"]:
        return "missing Identifier"
    if not isinstance(declaration.get("Type"), str) or not declaration["Type"]:
        return "missing Type"
    if not isinstance(declaration.get("Payload"), dict):
        return "missing Payload"
    return None


def membership(sim, method, table, key, member, notify, notify_by):
    """``set-declarations/{set}?declaration=`` and ``enrollment-sets/{id}?set=`` (sets.go, enrollments.go)."""
    if method == "GET":
        return listing(table.get(key, ()))
    if method not in ("PUT", "DELETE"):
        return NOT_FOUND
    if not member:
        return error(400, "missing %s" % ("declaration" if notify_by == "set" else "set"))
    members = table.setdefault(key, [])
    if method == "PUT":
        changed = member not in members
        if changed:
            members.append(member)
    else:
        changed = member in members
        if changed:
            members.remove(member)
    if changed and notify:
        sim.notify(sets=[key]) if notify_by == "set" else sim.notify(ids=[key])
    return changed_answer(changed)


def status_report(store, enrollment_id, query):
    reports = store.reports.get(enrollment_id) or []
    if arg(query, "status_id"):
        matching = [(i, r) for i, r in enumerate(reports) if r["status_id"] == arg(query, "status_id")]
    else:
        index = int(arg(query, "index") or 0)
        matching = [(index, reports[index])] if 0 <= index < len(reports) else []
    if not matching:
        return error(404, "status report not found")
    index, report = matching[0]
    headers = {"Last-Modified": email.utils.formatdate(report["time"], usegmt=True),
               "X-Status-Report-Index": str(index), "X-Status-Report-ID": report["status_id"]}  # fmt: skip
    return 200, {"Content-Type": "application/json", **headers}, report["raw"]
