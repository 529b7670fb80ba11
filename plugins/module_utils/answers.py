# -*- coding: utf-8 -*-
# Copyright (c) 2026, mdm.vpp contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Apple's answers checked before they become data: a malformed answer is an error, never an empty page.

A check takes a JSON answer (a dict) and the request's label (``GET /assignments``) and raises
``MalformedAnswerError`` naming the endpoint and what was wrong. The client calls the checks inside its retry
loop, so a malformed answer is retried like a 5xx and, once the retries are spent, fails the task before
anything reaches the store. Shapes follow the reference (``shared/apple-vpp-v2-api.md`` §4, §7).
"""

from __future__ import annotations

import itertools
import json

from ansible_collections.mdm.vpp.plugins.module_utils.errors import MalformedAnswerError

ASSET_COUNTS = ("assignedCount", "availableCount", "retiredCount", "totalCount")
# records key -> (fields that must be non-empty text, optional text fields) of one record
RECORD_FIELDS = {
    "assets": (("adamId",), ("pricingParam", "productType")),
    "unlimitedAssets": (("adamId",), ("pricingParam", "productType")),
    "assignments": (("adamId",), ("pricingParam", "clientUserId", "serialNumber", "userStatus", "idHash")),
    "users": (("clientUserId",), ("email", "status", "inviteCode", "idHash", "managedAppleId")),
}
COUNTED_RECORDS = ("assets", "unlimitedAssets")


def is_count(value):
    """A whole number of 0 or more (JSON ``true`` is not one)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def check_page(page, label, records_keys, index):
    """One page of a listing (``GET /assets``, ``/assignments``, ``/users``) as §4.15 and §7 describe it.

    ``records_keys``: the listing's record lists (for ``/assets`` either ``assets`` or ``unlimitedAssets``
    suffices); ``index``: the page asked for (page 0 must carry the ``versionId``).
    """
    where = "%s page %d" % (label, index)
    present = [key for key in records_keys if key in page]
    if not present:
        _malformed(where, "Apple's answer has no %s list" % " or ".join(repr(key) for key in records_keys))
    for key in present:
        if not isinstance(page[key], list):
            _malformed(where, "Apple's %r is %s, not a list" % (key, _kind(page[key])))
    _check_paging(where, page, index)
    for key in present:
        if _records_look_valid(key, page[key]):
            continue
        for position, record in enumerate(page[key]):
            _check_record(where, key, position, record)


def check_event(answer, label):
    """The answer of an asynchronous POST (``EventResponse``): it must name its event."""
    event_id = answer.get("eventId")
    if not isinstance(event_id, str) or not event_id:
        _malformed(label, "Apple's answer has no eventId (got %s)" % _kind(event_id))


def check_status(answer, label):
    """The answer of ``GET /status`` (``StatusResponse``): its ``eventStatus`` must be text."""
    if not isinstance(answer.get("eventStatus"), str):
        _malformed(label, "Apple's answer has no eventStatus text (got %s)" % _kind(answer.get("eventStatus")))


# endpoint (a key of client.ENDPOINTS) -> the check of its answer; listings are checked per page by the Listing
CHECKS = {
    "associateAssets": check_event,
    "disassociateAssets": check_event,
    "revokeAssets": check_event,
    "createUsers": check_event,
    "updateUsers": check_event,
    "retireUsers": check_event,
    "eventStatus": check_status,
}


def _check_paging(where, page, index):
    version_id = page.get("versionId")
    if (index == 0 or version_id is not None) and (not isinstance(version_id, str) or not version_id):
        _malformed(where, "Apple's answer has no versionId text (got %s)" % _kind(version_id))
    if not is_count(page.get("totalPages")):
        _malformed(where, "Apple's totalPages is %s, not a page count" % _kind(page.get("totalPages")))
    current = page.get("currentPageIndex")
    if current is not None and not is_count(current):
        _malformed(where, "Apple's currentPageIndex is %s, not a page index" % _kind(current))
    following = page.get("nextPageIndex")
    if following is not None and not (is_count(following) and following > index):
        _malformed(where, "Apple's nextPageIndex is %s, not a page index after %d" % (_kind(following), index))


_TEXT = frozenset((str,))
_TEXT_OR_MISSING = frozenset((str, type(None)))
_COUNT_OR_MISSING = frozenset((int, type(None)))


def _records_look_valid(key, records):
    """Whether every record passes ``_check_record``, found a field at a time in C loops (a page of a thousand
    records a few dozen times faster than record by record). False also when a record merely might not pass
    (e.g. a subclass of ``dict`` or ``str``): the caller then checks record by record, which names the first
    fault."""
    if not set(map(type, records)) <= {dict}:
        return False
    required, optional = RECORD_FIELDS.get(key, ((), ()))
    for field in required:
        values = list(map(dict.get, records, itertools.repeat(field)))
        if not set(map(type, values)) <= _TEXT or "" in values:
            return False
    for field in optional:
        if not set(map(type, map(dict.get, records, itertools.repeat(field)))) <= _TEXT_OR_MISSING:
            return False
    if key in COUNTED_RECORDS:
        for field in ASSET_COUNTS:
            values = [value for value in map(dict.get, records, itertools.repeat(field)) if value is not None]
            if not set(map(type, values)) <= _COUNT_OR_MISSING or (values and min(values) < 0):
                return False
    return True


def _check_record(where, key, position, record):
    if not isinstance(record, dict):
        _malformed(where, "%s[%d] is %s, not an object" % (key, position, _kind(record)))
    required, optional = RECORD_FIELDS.get(key, ((), ()))
    for field in required:
        if not isinstance(record.get(field), str) or not record[field]:
            _malformed(where, "%s[%d] has no %s text (got %s)" % (key, position, field, _kind(record.get(field))))
    for field in optional:
        if record.get(field) is not None and not isinstance(record[field], str):
            _malformed(where, "%s[%d] has %s %s, not text" % (key, position, field, _kind(record[field])))
    if key in COUNTED_RECORDS:
        for field in ASSET_COUNTS:
            if record.get(field) is not None and not is_count(record[field]):
                _malformed(
                    where,
                    "%s[%d] (adamId %s) has %s %s, not a count of 0 or more"
                    % (key, position, record["adamId"], field, _kind(record[field])),
                )


def _kind(value):
    """A short, safe description of a value for a message (answers hold no secrets, but stay short)."""
    if value is None:
        return "missing"
    if isinstance(value, (bool, int, float)):
        return "%s %r" % (type(value).__name__, value)
    if isinstance(value, str):
        return "text %r" % value[:40]
    return "a JSON %s" % ("list" if isinstance(value, list) else "object")


def _malformed(where, what):
    raise MalformedAnswerError("%s: %s" % (where, what))


def json_object(body, max_bytes, malformed):
    """A body posted to us (Apple's notification, an MDM's webhook) as a JSON object; else ``malformed(reason)``
    is raised, the poster's own error type. The size is checked before anything is parsed."""
    if len(body) > max_bytes:
        raise malformed("larger than %d bytes" % max_bytes)
    try:
        document = json.loads(body)
    except ValueError:
        raise malformed("not JSON") from None
    if not isinstance(document, dict):
        raise malformed("not a JSON object")
    return document
